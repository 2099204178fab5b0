"""Shared fixtures: the trained model, local databases and the running services."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests import services

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """models/kefu.tar.gz, trained from the current data if it is stale."""
    from bot.cli import train

    return train()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database on 127.0.0.1:5432 for this test session."""
    with services.postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    services.ensure_redis()
    return "redis://127.0.0.1:6379/0"


def _seed_demo_shop(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "actions.demo"], cwd=services.ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True)


@pytest.fixture(scope="session")
def rasa_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.Stack]:
    """The whole product running: handoff service, action server and Rasa server.

    Over a freshly seeded demo shop and demo agents, on free ports, with the
    production commands (the same ones the Procfile runs).
    """
    workdir = tmp_path_factory.mktemp("stack")
    rasa_port, actions_port, handoff_port = (services.free_port() for _ in range(3))
    env = services.base_env(workdir, actions_port, handoff_port)
    env["KEFU_RASA_URL"] = f"http://127.0.0.1:{rasa_port}"
    _seed_demo_shop(env)
    subprocess.run([sys.executable, "-m", "handoff.seed"], cwd=services.ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True)
    started: list[services.Process] = []
    try:
        started.append(services.start("handoff", [sys.executable, "-m", "handoff"], env,
                                      f"http://127.0.0.1:{handoff_port}/healthz", workdir))
        started.append(services.start("actions", services.actions_command(actions_port), env,
                                      f"http://127.0.0.1:{actions_port}/health", workdir))
        started.append(services.start("rasa", services.rasa_command(trained_model, rasa_port), env,
                                      f"http://127.0.0.1:{rasa_port}/status?token=test-rasa-token",
                                      workdir, timeout=240))
        yield services.Stack(
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            actions_url=f"http://127.0.0.1:{actions_port}",
            shop_db_url=env["KEFU_SHOP_DB_URL"],
            rasa_token="test-rasa-token",
            bot_secret="test-bot-secret",
            handoff_url=env["KEFU_HANDOFF_URL"],
            handoff_db_url=env["KEFU_HANDOFF_DB_URL"],
            logdir=workdir,
        )
    finally:
        for process in reversed(started):
            process.stop()
        services.copy_logs(workdir)
