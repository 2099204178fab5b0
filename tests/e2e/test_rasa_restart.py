"""Conversations survive a Rasa restart (issue 6).

Default: the SQL tracker store in a SQLite file. Production: the PostgreSQL
tracker store with the Redis lock store (endpoints.production.yml), tested
against the real local servers.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from tests import services

pytestmark = pytest.mark.slow


def _talk_restart_and_read(model: Path, env: dict[str, str], endpoints: str, workdir: Path) -> list[str]:
    port = services.free_port()
    cmd = services.rasa_command(model, port)
    cmd[cmd.index("endpoints.yml")] = endpoints
    url = f"http://127.0.0.1:{port}"
    ready = f"{url}/status?token=test-rasa-token"
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    rasa = services.start("rasa-before", cmd, env, ready, workdir, timeout=240)
    try:
        reply = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": "你好"}, timeout=30)
        assert reply.ok and reply.json(), "the bot did not greet"
    finally:
        rasa.stop()
    rasa = services.start("rasa-after", cmd, env, ready, workdir, timeout=240)
    try:
        tracker = requests.get(f"{url}/conversations/{sender}/tracker?token=test-rasa-token", timeout=30).json()
        return [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    finally:
        rasa.stop()


def test_conversation_survives_restart_with_the_default_sqlite_tracker_store(trained_model, tmp_path):
    env = services.base_env(tmp_path, services.free_port(), services.free_port())
    assert _talk_restart_and_read(trained_model, env, "endpoints.yml", tmp_path) == ["你好"]


@pytest.mark.postgres
@pytest.mark.redis
def test_conversation_survives_restart_with_postgres_tracker_and_redis_lock_store(
        trained_model, postgres_url, redis_url, tmp_path):
    from sqlalchemy.engine import make_url

    pg = make_url(postgres_url)
    env = services.base_env(tmp_path, services.free_port(), services.free_port())
    env.update({
        "KEFU_TRACKER_PG_HOST": pg.host, "KEFU_TRACKER_PG_PORT": str(pg.port),
        "KEFU_TRACKER_PG_DB": pg.database, "KEFU_TRACKER_PG_USER": pg.username,
        "KEFU_TRACKER_PG_PASSWORD": "",
        "KEFU_REDIS_HOST": "127.0.0.1", "KEFU_REDIS_PORT": "6379", "KEFU_REDIS_LOCK_DB": "1",
    })
    assert _talk_restart_and_read(trained_model, env, "endpoints.production.yml", tmp_path) == ["你好"]
