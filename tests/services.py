"""Start the real processes (Rasa, action server, handoff) and local databases for tests."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def die_with_parent() -> None:
    """Popen ``preexec_fn``: the child gets SIGTERM when the process that started it dies, even by
    SIGKILL (a CI timeout, a killed benchmark), so no server outlives its test run (Linux only)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200, or fail with the process's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def ensure_postgres() -> None:
    """Start the local PostgreSQL cluster if it is not listening."""
    if port_open("127.0.0.1", 5432):
        return
    versions = os.listdir("/etc/postgresql")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"], check=True)
    for _ in range(40):
        if port_open("127.0.0.1", 5432):
            return
        time.sleep(0.25)
    raise RuntimeError("PostgreSQL did not start")


def ensure_redis() -> None:
    """Start the local Redis server if it is not listening."""
    if port_open("127.0.0.1", 6379):
        return
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
                    "--save", "", "--appendonly", "no"], check=True)
    for _ in range(40):
        if port_open("127.0.0.1", 6379):
            return
        time.sleep(0.25)
    raise RuntimeError("Redis did not start")


@contextmanager
def postgres_database(prefix: str = "kefu_test") -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards. Yields its URL."""
    import psycopg2

    ensure_postgres()
    name = f"{prefix}_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(name: str, cmd: list[str], env: dict[str, str], ready_url: str, logdir: Path,
          timeout: float = 180) -> Process:
    """Start ``cmd`` with its output in ``logdir/name.log`` and wait until ready."""
    log = logdir / f"{name}.log"
    handle = log.open("ab")  # a restarted service keeps the earlier log
    popen = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=handle,
                             stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    process = Process(name, popen, log)
    try:
        wait_http(ready_url, timeout, popen)
    except Exception as exc:
        process.stop()
        raise RuntimeError(f"{name} failed to start: {exc}\n{log.read_text(errors='replace')[-3000:]}")
    return process


@dataclass
class Stack:
    """URLs and settings of a running set of kefu services."""

    rasa_url: str
    actions_url: str
    shop_db_url: str
    rasa_token: str
    bot_secret: str
    handoff_url: str | None = None
    handoff_db_url: str | None = None
    logdir: Path | None = None


def rasa_command(model: Path, port: int) -> list[str]:
    return [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", "test-rasa-token",
            "--model", str(model), "--endpoints", "endpoints.yml", "--port", str(port)]


def actions_command(port: int) -> list[str]:
    return [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)]


def base_env(workdir: Path, actions_port: int, handoff_port: int) -> dict[str, str]:
    return {
        "KEFU_SHOP_DB_URL": f"sqlite:///{workdir / 'shop.db'}",
        "KEFU_HANDOFF_DB_URL": f"sqlite:///{workdir / 'handoff.db'}",
        "KEFU_TRACKER_DB": str(workdir / "tracker.db"),
        "KEFU_ACTIONS_WEBHOOK": f"http://127.0.0.1:{actions_port}/webhook",
        "KEFU_HANDOFF_URL": f"http://127.0.0.1:{handoff_port}",
        "KEFU_HANDOFF_PORT": str(handoff_port),
        "KEFU_RASA_TOKEN": "test-rasa-token",
        "KEFU_BOT_SECRET": "test-bot-secret",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_TELEMETRY_ENABLED": "false",
    }


def copy_logs(logdir: Path) -> None:
    """Keep service logs under reports/ so a failed CI run can be read."""
    target = ROOT / "reports" / "service-logs"
    target.mkdir(parents=True, exist_ok=True)
    for log in logdir.glob("*.log"):
        shutil.copy(log, target / log.name)
