"""Fault tests reuse the handoff fixtures (services on SQLite, helpers) with a fake Rasa that can be
made slow or silent, the way real Rasa behaves when the action server is slow or down."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.handoff.conftest import RASA_TOKEN, _shop_with_one_order, service, service_factory  # noqa: F401
from tests.handoff.fake_rasa import FakeRasa


class FaultyRasa(FakeRasa):
    """``delay`` seconds before answering; ``silent``: answers [] (what Rasa 3.6 returns when a custom
    action fails: it logs the error and predicts nothing more)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.delay = 0.0
        self.silent = False

    async def webhook(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.silent:
            body = await request.json()
            self.received.append((body["sender"], body["message"]))
            return web.json_response([])
        return await super().webhook(request)


@pytest.fixture
async def fake_rasa(tmp_path, monkeypatch):
    from actions.shop.db import dispose_engines

    monkeypatch.setenv("KEFU_SHOP_DB_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    await _shop_with_one_order()
    rasa = FaultyRasa(RASA_TOKEN)
    server = TestServer(rasa.app())
    await server.start_server()
    rasa.url = str(server.make_url("")).rstrip("/")
    yield rasa
    await server.close()
    await dispose_engines()
