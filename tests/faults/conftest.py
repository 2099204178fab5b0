"""Fault tests reuse the handoff fixtures (services on SQLite, helpers) with a fake Rasa that can be
made slow or silent, the way real Rasa behaves when the action server is slow or down."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from tests.handoff.conftest import fake_rasa, service, service_factory  # noqa: F401  (fixtures)
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
def fake_rasa_class() -> type[FakeRasa]:
    """Overrides the handoff fixture: the ``fake_rasa`` fixture starts a FaultyRasa here."""
    return FaultyRasa
