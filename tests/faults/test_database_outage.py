"""The handoff database goes away for a moment: requests fail cleanly (503 JSON, a polite note on the
WebSocket), nothing half-stored, and everything works again as soon as it is back."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import psycopg2
import pytest

from tests.handoff.conftest import auth, is_message, login, new_conversation, receive_until


@contextlib.contextmanager
def sqlite_file_gone(db: Path):
    """Move the database (and its WAL files) away and put a directory in its place: new
    connections fail with "unable to open database file". The service keeps its SQLite
    connections pooled, which would go on using the moved file: drop them too (see below)."""
    moved = []
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{db}{suffix}")
        if path.exists():
            path.rename(f"{path}.away")
            moved.append(path)
    db.mkdir()
    try:
        yield
    finally:
        shutil.rmtree(db)
        for path in moved:
            Path(f"{path}.away").rename(path)


async def assert_unavailable(resp) -> None:
    assert resp.status == 503, await resp.text()
    assert resp.headers["Retry-After"]
    body = await resp.json()
    assert body["error"] == "service_unavailable" and body["message"].startswith("亲")


async def test_sqlite_unavailable_for_a_moment(service_factory, tmp_path):
    db = tmp_path / "outage.db"
    service = await service_factory(db_url=f"sqlite:///{db}")
    client = service.client
    conv, token = await new_conversation(client)
    headers = {"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"}
    assert (await client.post("/api/shopper/messages", json={"text": "你好"}, headers=headers)).status == 201
    agent = await login(client, "logi1")
    shopper = await client.ws_connect(f"/ws/shopper?conversation_id={conv}&token={token}")
    await receive_until(shopper, is_message("bot"))

    with sqlite_file_gone(db):
        await service.ctx.dispose()  # the pool reconnects, and cannot
        await assert_unavailable(await client.post("/api/shopper/messages", json={"text": "在吗"}, headers=headers))
        await assert_unavailable(await client.get("/api/queue", headers=auth(agent)))
        await assert_unavailable(await client.post("/api/shopper/conversations"))
        await assert_unavailable(await client.post("/api/agent/login", json={"username": "logi2", "password": "pw-logi2"}))
        # The open WebSocket stays open and tells the shopper the message did not go through.
        await shopper.send_json({"type": "message", "text": "消息一"})
        frame = (await receive_until(shopper, lambda f: f["type"] == "error"))[-1]
        assert frame["error"] == "service_unavailable" and "没有发送成功" in frame["message"]

    # Back: the same socket, the same tokens work; the refused messages were not half-stored.
    await shopper.send_json({"type": "message", "text": "消息一"})
    await receive_until(shopper, is_message("shopper", "消息一"))
    assert (await client.post("/api/shopper/messages", json={"text": "在吗"}, headers=headers)).status == 201
    assert (await client.get("/api/queue", headers=auth(agent))).status == 200
    texts = [m["text"] for m in (await (await client.get("/api/shopper/messages", headers=headers)).json())["messages"]
             if m["sender"] == "shopper"]
    assert texts == ["你好", "消息一", "在吗"]
    await shopper.close()


def _admin():
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    return conn


def _kick_everyone(admin, database: str) -> int:
    with admin.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
        return cur.fetchone()[0]


@pytest.mark.postgres
async def test_postgres_connections_killed_and_database_refusing_connections(service_factory):
    from tests.services import postgres_database

    with postgres_database("kefu_outage") as url:
        database = url.rsplit("/", 1)[1]
        service = await service_factory(db_url=url)
        client = service.client
        conv, token = await new_conversation(client)
        headers = {"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"}
        agent = await login(client, "logi1")
        assert (await client.post("/api/shopper/messages", json={"text": "你好"}, headers=headers)).status == 201
        admin = _admin()
        try:
            # 1. Every pooled connection killed (failover, restart of PostgreSQL): pool_pre_ping
            #    notices and reconnects, so the next requests simply work.
            assert _kick_everyone(admin, database) >= 1
            assert (await client.post("/api/shopper/messages", json={"text": "还在吗"}, headers=headers)).status == 201
            assert (await client.get("/api/queue", headers=auth(agent))).status == 200

            # 2. The database refuses connections for a while: clean 503s.
            with admin.cursor() as cur:
                cur.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            _kick_everyone(admin, database)
            await assert_unavailable(await client.post("/api/shopper/messages", json={"text": "在吗"}, headers=headers))
            await assert_unavailable(await client.get("/api/queue", headers=auth(agent)))
        finally:
            with admin.cursor() as cur:
                cur.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        # 3. Back: everything works, nothing was half-stored.
        assert (await client.post("/api/shopper/messages", json={"text": "好了吗"}, headers=headers)).status == 201
        texts = [m["text"] for m in (await (await client.get("/api/shopper/messages", headers=headers)).json())["messages"]
                 if m["sender"] == "shopper"]
        assert texts == ["你好", "还在吗", "好了吗"]
        await service.client.close()
        admin.close()
