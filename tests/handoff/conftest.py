"""Fixtures for the handoff tests: a fake Rasa, a service factory, clients."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from handoff.app import create_app
from handoff.config import Settings, load_policy
from handoff.web_common import CTX

from .fake_rasa import FakeRasa

BOT_SECRET = "test-bot-secret"
RASA_TOKEN = "test-rasa-token"

DEMO_AGENTS = [
    {"username": "logi1", "password": "pw-logi1", "display_name": "物流小李", "skills": ["logistics", "orders"], "capacity": 2},
    {"username": "logi2", "password": "pw-logi2", "display_name": "物流小王", "skills": ["logistics"], "capacity": 2},
    {"username": "ret1", "password": "pw-ret1", "display_name": "售后小赵", "skills": ["returns", "complaints"], "capacity": 2},
]


class Clock:
    """A clock tests move by hand (the dispatcher's timers read it)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_settings(db_url: str, rasa_url: str, run_dispatcher: bool = False, **overrides: Any) -> Settings:
    policy = load_policy(overrides={"demo_agents": DEMO_AGENTS, **overrides})
    return Settings(db_url=db_url, bot_secret=BOT_SECRET, rasa_url=rasa_url, rasa_token=RASA_TOKEN,
                    policy=policy, run_dispatcher=run_dispatcher)


@pytest.fixture
def fake_rasa_class() -> type[FakeRasa]:
    """The fake Rasa to start; a test folder overrides this to get one that misbehaves."""
    return FakeRasa


@pytest.fixture
async def fake_rasa(tmp_path, monkeypatch, fake_rasa_class):
    from actions.shop.db import dispose_engines

    # action_handoff looks the order up in the shop database: one order for the ticket's context.
    monkeypatch.setenv("KEFU_SHOP_DB_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    await _shop_with_one_order()
    rasa = fake_rasa_class(RASA_TOKEN)
    server = TestServer(rasa.app())
    await server.start_server()
    rasa.url = str(server.make_url("")).rstrip("/")
    yield rasa
    await server.close()
    await dispose_engines()


SHOP_ORDER_NO = "3829104857263541"


async def _shop_with_one_order() -> None:
    """A 金卡会员 with one 1299-yuan order, for the ticket's customer and order context."""
    import datetime as dt

    from actions.shop.db import create_schema, session_factory
    from actions.shop.models import Customer, Order

    await create_schema()
    now = dt.datetime(2024, 5, 1, 10, 0)
    async with session_factory()() as session, session.begin():
        customer = Customer(name="林女士", phone="13800006621", vip_tier="金卡会员", created_at=now)
        session.add(customer)
        await session.flush()
        session.add(Order(order_no=SHOP_ORDER_NO, customer_id=customer.id, status="shipped", total=1299,
                          receiver_name="林女士", receiver_phone="13800006621", address="上海市徐汇区漕溪北路1号",
                          created_at=now))


@dataclass
class Service:
    client: TestClient
    clock: Clock

    @property
    def ctx(self):
        return self.client.server.app[CTX]

    @property
    def url(self) -> str:
        return str(self.client.server.make_url("")).rstrip("/")


async def start_service(settings: Settings, clock: Clock | None = None, seed: bool = True) -> Service:
    from handoff.seed import seed as seed_db

    if seed:
        await seed_db(settings)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    service = Service(client, clock)  # type: ignore[arg-type]
    if clock is not None:
        service.ctx.clock = clock
    return service


@pytest.fixture
async def service_factory(tmp_path, fake_rasa, monkeypatch):
    """Start handoff services (sqlite in tmp_path by default); all closed at the end."""
    started: list[Service] = []

    async def factory(db_url: str | None = None, clock: Clock | None = None, seed: bool = True,
                      real_time: bool = False, run_dispatcher: bool = False, **overrides) -> Service:
        """A service on a fake clock (tests move it), unless ``real_time``."""
        settings = make_settings(db_url or f"sqlite:///{tmp_path / 'handoff.db'}", fake_rasa.url,
                                 run_dispatcher=run_dispatcher, **overrides)
        service = await start_service(settings, None if real_time else (clock or Clock()), seed)
        started.append(service)
        monkeypatch.setenv("KEFU_HANDOFF_URL", service.url)
        monkeypatch.setenv("KEFU_BOT_SECRET", BOT_SECRET)
        return service

    yield factory
    for service in started:
        await service.client.close()


@pytest.fixture
async def service(service_factory) -> Service:
    return await service_factory()


# ---------------------------------------------------------------- helpers

async def login(client: TestClient, username: str, password: str | None = None) -> dict[str, str]:
    password = password or next(a["password"] for a in DEMO_AGENTS if a["username"] == username)
    resp = await client.post("/api/agent/login", json={"username": username, "password": password})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    return {"Authorization": f"Bearer {body['token']}", "token": body["token"], "id": body["agent"]["id"]}


def auth(headers: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


async def new_conversation(client: TestClient) -> tuple[str, str]:
    resp = await client.post("/api/shopper/conversations")
    assert resp.status == 201
    body = await resp.json()
    return body["conversation_id"], body["token"]


async def open_shopper_socket(client: TestClient):
    """A new shopper conversation with its WebSocket open: (conversation id, token, socket)."""
    conv, token = await new_conversation(client)
    ws = await client.ws_connect(f"/ws/shopper?conversation_id={conv}&token={token}")
    return conv, token, ws


async def receive_until(ws, predicate: Callable[[dict], bool], timeout: float = 5.0) -> list[dict]:
    """Frames received until one satisfies ``predicate`` (included); fails on timeout."""
    seen: list[dict] = []

    async def _loop() -> list[dict]:
        while True:
            msg = await ws.receive()
            if msg.type != web.WSMsgType.TEXT:
                raise AssertionError(f"socket closed while waiting; seen {seen}")
            data = json.loads(msg.data)
            seen.append(data)
            if predicate(data):
                return seen

    try:
        return await asyncio.wait_for(_loop(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"no matching frame within {timeout}s; seen: {seen}")


def is_message(sender: str | None = None, contains: str | None = None) -> Callable[[dict], bool]:
    def check(frame: dict) -> bool:
        if frame.get("type") != "message":
            return False
        message = frame["message"]
        return (sender is None or message["sender"] == sender) and (contains is None or contains in message["text"])
    return check


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
