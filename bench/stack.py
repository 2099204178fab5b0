"""Start and stop the whole product for a benchmark, on free ports, in a temp dir.

The same commands and environment the end-to-end tests use (tests/services.py,
imported, not copied): a freshly seeded demo shop and demo agents, the
handoff service (`python -m handoff`), the action server (`rasa run actions`)
and the Rasa server (`rasa run --enable-api`) with models/kefu.tar.gz.
Extra environment (e.g. TensorFlow thread settings) goes to Rasa only.

    with running_stack() as stack:
        print(stack.handoff_url, stack.rasa_url, stack.pids())
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

from tests import services

ROOT = services.ROOT
MODEL = ROOT / "models" / "kefu.tar.gz"


@dataclass
class BenchStack:
    """A running set of kefu services; ``processes`` by name (handoff, actions, rasa)."""

    workdir: Path
    env: dict[str, str]
    rasa_port: int
    actions_port: int
    handoff_port: int
    model: Path
    processes: dict[str, services.Process] = field(default_factory=dict)
    rasa_load_seconds: float | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.handoff_port}"

    @property
    def shop_db_url(self) -> str:
        return self.env["KEFU_SHOP_DB_URL"]

    @property
    def rasa_token(self) -> str:
        return self.env["KEFU_RASA_TOKEN"]

    def pids(self) -> dict[str, int]:
        return {name: p.popen.pid for name, p in self.processes.items() if p.popen.poll() is None}

    def start_rasa(self, extra_env: Mapping[str, str] | None = None, profiler: list[str] | None = None) -> float:
        """(Re)start the Rasa server; returns seconds from launch until /status names the model.

        ``profiler``: a command prefix (e.g. py-spy record ... --) that runs Rasa as its child.
        """
        self.stop_rasa()
        env = {**self.env, **(extra_env or {})}
        command = services.rasa_command(self.model, self.rasa_port)
        if profiler:
            command = [*profiler, *command]
        log = self.workdir / "rasa.log"
        handle = log.open("ab")
        started = time.monotonic()
        popen = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=handle,
                                 stderr=subprocess.STDOUT, preexec_fn=services.die_with_parent)
        self.processes["rasa"] = services.Process("rasa", popen, log)
        try:
            _wait_for_model(f"{self.rasa_url}/status?token={self.rasa_token}", popen, timeout=300)
        except Exception as exc:
            self.stop_rasa()
            raise RuntimeError(f"rasa failed to start: {exc}\n{log.read_text(errors='replace')[-3000:]}")
        self.rasa_load_seconds = time.monotonic() - started
        return self.rasa_load_seconds

    def stop_rasa(self) -> None:
        process = self.processes.pop("rasa", None)
        if process is not None:
            process.stop()

    def stop(self) -> None:
        for name in ("rasa", "actions", "handoff"):
            process = self.processes.pop(name, None)
            if process is not None:
                process.stop()


def _wait_for_model(url: str, popen: subprocess.Popen, timeout: float) -> None:
    """Poll /status every 0.1 s until it answers with a loaded model file."""
    import json
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"process exited with {popen.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200 and json.loads(response.read()).get("model_file"):
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not report a model within {timeout}s")


def _seed(env: Mapping[str, str]) -> None:
    for module in ("actions.demo", "handoff.seed"):
        subprocess.run([sys.executable, "-m", module], cwd=ROOT, env={**os.environ, **env},
                       check=True, capture_output=True)


@contextmanager
def running_stack(model: Path = MODEL, rasa_env: Mapping[str, str] | None = None, handoff: bool = True,
                  rasa: bool = True, rasa_now: bool = True, keep_dir: bool = False,
                  handoff_db: str = "sqlite") -> Iterator[BenchStack]:
    """The product on free ports over a fresh demo shop; everything stopped afterwards.

    ``rasa``: run the action server and Rasa; ``rasa_now=False`` leaves Rasa to ``stack.start_rasa``.
    ``handoff_db``: ``sqlite`` (the tests' default, a file in the temp dir) or ``postgres`` (production's
    choice: a fresh database on 127.0.0.1:5432, dropped afterwards).
    """
    if rasa and not model.exists():
        raise SystemExit(f"{model} is missing: train first (make train)")
    if handoff_db not in ("sqlite", "postgres"):
        raise SystemExit(f"unknown handoff database {handoff_db!r} (sqlite, postgres)")
    workdir = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    rasa_port, actions_port, handoff_port = (services.free_port() for _ in range(3))
    env = services.base_env(workdir, actions_port, handoff_port)
    env["KEFU_RASA_URL"] = f"http://127.0.0.1:{rasa_port}"
    stack = BenchStack(workdir, env, rasa_port, actions_port, handoff_port, model)
    with ExitStack() as databases:
        try:
            if handoff_db == "postgres":
                env["KEFU_HANDOFF_DB_URL"] = databases.enter_context(services.postgres_database("kefu_bench"))
            _seed(env)
            if handoff:
                stack.processes["handoff"] = services.start(
                    "handoff", [sys.executable, "-m", "handoff"], env,
                    f"{stack.handoff_url}/healthz", workdir)
            if rasa:
                stack.processes["actions"] = services.start(
                    "actions", services.actions_command(actions_port), env,
                    f"{stack.actions_url}/health", workdir)
                if rasa_now:
                    stack.start_rasa(rasa_env)
            yield stack
        finally:
            stack.stop()  # before the database is dropped
            if keep_dir:
                print(f"logs kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    # Smoke run: start everything, print URLs and memory, stop.
    from bench.common import rss_mb

    with running_stack() as running:
        print(f"handoff {running.handoff_url}  rasa {running.rasa_url}  actions {running.actions_url}")
        print(f"rasa model loaded in {running.rasa_load_seconds:.1f} s")
        for name, pid in running.pids().items():
            print(f"{name:8s} pid {pid}  RSS {rss_mb(pid)} MiB")
