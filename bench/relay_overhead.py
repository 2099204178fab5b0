"""The handoff service's own cost per shopper message, with Rasa replaced by an instant stub.

bench/shoppers.py measures the storefront against Rasa, but Rasa's turn (50-500 ms, noisy on
a shared machine) hides what the service itself adds. Here the real service (``python -m
handoff``, a temp SQLite file or a fresh PostgreSQL database) talks to a stub REST channel
(a separate process) that answers every message at once with one text reply, so the whole
storefront latency is the service's overhead plus one local HTTP round trip, which the
*direct* path (the same stub, POSTed to straight) measures alone.

For each level (``--shoppers 10,50``), ``--repeat`` times, alternating the two paths:

* **service**: each shopper opens a conversation (POST /api/shopper/conversations), chats on
  /ws/shopper exactly as bench/shoppers.py does and waits for the bot's answer frame; *echo*
  is its own message coming back (stored and announced, before the bot is asked).
* **direct**: the same messages POSTed to the stub's /webhooks/rest/webhook.

Printed: answered messages, latency p50/p95/p99 of both paths, messages/s, and the service's
CPU ms per message (utime+stime of its process from /proc, before/after each service run;
*net* subtracts its idle rate, measured before the runs: the dispatcher ticks every second).

    .venv/bin/python -m bench.relay_overhead --shoppers 10,50 --messages 8 --repeat 3
    .venv/bin/python -m bench.relay_overhead --db postgres
    .venv/bin/python -m bench.relay_overhead --shoppers 50 --paths service --profile   # py-spy
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import shutil
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import (ROOT, load_average, machine, print_table, start_profile, summarize_profile,
                          summary_ms, write_result)
from bench.shopper_socket import SocketNotOpened, shopper_socket
from tests import services

STUB_REPLY = "亲，您好！小美在的，请问有什么可以帮您？"
WORDS = ["你好", "满多少包邮呀", "一般下单后几天发货", "查一下物流", "退货运费谁出", "可以开发票吗",
         "偏远地区能发货吗", "保修期多久", "用什么快递", "退款多久到账", "怎么选尺码", "好的谢谢"]


# ------------------------------------------------------------------ the stub Rasa (own process)

def serve_stub(port: int) -> None:
    """Rasa's REST channel and the calls the service makes, answered at once."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body.get("sender"), "text": STUB_REPLY}])

    async def ok(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", ok)  # resume
    app.router.add_get("/status", ok)
    app.router.add_get("/", ok)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ------------------------------------------------------------------ processes

def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc/<pid>/stat (psutil is not installed)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Services:
    handoff_url: str
    stub_url: str
    handoff_pid: int


def start_services(stack: ExitStack, db: str, workdir: Path) -> Services:
    stub_port, handoff_port = services.free_port(), services.free_port()
    env = services.base_env(workdir, services.free_port(), handoff_port)
    env["KEFU_RASA_URL"] = f"http://127.0.0.1:{stub_port}"
    if db == "postgres":
        env["KEFU_HANDOFF_DB_URL"] = stack.enter_context(services.postgres_database("kefu_relay"))
    subprocess.run([sys.executable, "-m", "handoff.seed"], cwd=ROOT, env={**os.environ, **env}, check=True,
                   capture_output=True)
    stub = services.start("stub_rasa", [sys.executable, "-m", "bench.relay_overhead", "--serve-stub",
                                        str(stub_port)], env, f"http://127.0.0.1:{stub_port}/status", workdir)
    stack.callback(stub.stop)
    handoff = services.start("handoff", [sys.executable, "-m", "handoff"], env,
                             f"http://127.0.0.1:{handoff_port}/healthz", workdir)
    stack.callback(handoff.stop)
    return Services(f"http://127.0.0.1:{handoff_port}", f"http://127.0.0.1:{stub_port}", handoff.popen.pid)


# ------------------------------------------------------------------ shoppers

@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    echo: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    sent: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def via_service(http: aiohttp.ClientSession, svc: Services, lines: list[str], run: Run,
                      args: argparse.Namespace, rng: random.Random) -> None:
    """One shopper on /ws/shopper, as the widget (and bench/shoppers.py) does it."""
    try:
        async with shopper_socket(http, svc.handoff_url) as (ws, frames):
            for text in lines:
                while not frames.empty():
                    frames.get_nowait()
                started = time.perf_counter()
                await ws.send_json({"type": "message", "text": text})
                run.sent += 1
                error = await _bot_answer(frames, started, run, args.reply_timeout)
                if error:
                    run.error(error)
                    if error == "socket closed":
                        break
                await asyncio.sleep(rng.uniform(*args.think))
    except SocketNotOpened as exc:
        run.error(str(exc))


async def _bot_answer(frames: asyncio.Queue, started: float, run: Run, timeout: float) -> str | None:
    """Wait for the bot's answer frame; record echo and answer latency. Returns an error or None."""
    echoed = False
    while True:
        left = started + timeout - time.perf_counter()
        try:
            frame = await asyncio.wait_for(frames.get(), max(left, 0.001))
        except asyncio.TimeoutError:
            return f"no answer within {timeout:.0f} s"
        now = time.perf_counter() - started
        kind = frame.get("type")
        if kind == "message":
            sender = frame["message"].get("sender")
            if sender == "shopper" and not echoed:
                echoed = True
                run.echo.append(now)
            elif sender == "bot":
                run.latencies.append(now)
                return None
            elif sender == "system":
                return f"system note {(frame['message'].get('extra') or {}).get('event')}"
        elif kind == "error":
            return f"error frame {frame.get('error')}"
        elif kind == "closed":
            return "socket closed"


async def direct(http: aiohttp.ClientSession, svc: Services, lines: list[str], run: Run,
                 args: argparse.Namespace, rng: random.Random) -> None:
    """The same shopper straight to the stub's REST channel."""
    sender = f"bench-{rng.getrandbits(48):012x}"
    for text in lines:
        started = time.perf_counter()
        run.sent += 1
        try:
            async with http.post(f"{svc.stub_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                 timeout=aiohttp.ClientTimeout(total=args.reply_timeout)) as r:
                body = await r.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            run.error(type(exc).__name__)
            continue
        if body:
            run.latencies.append(time.perf_counter() - started)
        else:
            run.error("empty reply")
        await asyncio.sleep(rng.uniform(*args.think))


@dataclass
class Measured:
    run: Run
    wall: float
    cpu_seconds: float
    load_before: list[float]
    load_after: list[float]


async def one_run(svc: Services, path: str, count: int, args: argparse.Namespace, seed: int,
                  profile_out: Path | None = None) -> Measured:
    run = Run()
    worker = via_service if path == "service" else direct
    spy = start_profile(svc.handoff_pid, args.profile_seconds, profile_out) if profile_out else None
    if profile_out and spy is None:
        print("  py-spy is not installed: no profile", flush=True)
    load_before = load_average()
    cpu_before = cpu_seconds(svc.handoff_pid)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=None)) as http:
        async def shopper(i: int) -> None:
            rng = random.Random(seed * 1000 + i)
            lines = [rng.choice(WORDS) for _ in range(args.messages)]
            await asyncio.sleep(rng.uniform(0, args.ramp))
            await worker(http, svc, lines, run, args, rng)

        started = time.perf_counter()
        await asyncio.gather(*(shopper(i) for i in range(count)))
        wall = time.perf_counter() - started
    used = cpu_seconds(svc.handoff_pid) - cpu_before
    if spy is not None:
        await asyncio.get_running_loop().run_in_executor(None, spy.wait)
    return Measured(run, wall, used, load_before, load_average())


def pooled(path: str, runs: list[Measured], idle_cpu_rate: float) -> dict[str, Any]:
    latencies = [x for m in runs for x in m.run.latencies]
    errors: dict[str, int] = {}
    for m in runs:
        for key, value in m.run.errors.items():
            errors[key] = errors.get(key, 0) + value
    wall = sum(m.wall for m in runs)
    out: dict[str, Any] = {
        "path": path, "runs": len(runs), "sent": sum(m.run.sent for m in runs), "answered": len(latencies),
        "seconds": round(wall, 1), "messages_per_second": round(len(latencies) / wall, 2) if wall else None,
        "latency_ms": summary_ms(latencies), "errors": errors,
        "load_average_before": runs[0].load_before, "load_average_after": runs[-1].load_after,
        "each_run": [{"latency_ms": summary_ms(m.run.latencies), "answered": len(m.run.latencies),
                      "cpu_seconds": round(m.cpu_seconds, 3), "load_average_after": m.load_after} for m in runs],
    }
    if path == "service":
        cpu = sum(m.cpu_seconds for m in runs)
        out["echo_ms"] = summary_ms([x for m in runs for x in m.run.echo])
        out["service_cpu_seconds"] = round(cpu, 3)
        out["service_cpu_share_of_one_core"] = round(cpu / wall, 3) if wall else None
        if latencies:
            out["service_cpu_ms_per_message"] = round(1000 * cpu / len(latencies), 2)
            out["service_cpu_ms_per_message_net"] = round(1000 * (cpu - idle_cpu_rate * wall) / len(latencies), 2)
    return out


async def idle_rate(pid: int, seconds: float) -> float:
    """The service's CPU seconds per second with nobody chatting (dispatcher ticks, heartbeats)."""
    before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "args": {k: v for k, v in vars(args).items()}, "levels": []}
    workdir = Path(tempfile.mkdtemp(prefix="kefu-relay-"))
    try:
        with ExitStack() as stack:
            svc = start_services(stack, args.db, workdir)
            warm = argparse.Namespace(**{**vars(args), "messages": 4, "ramp": 0.5})
            for path in args.paths:  # first conversations pay for connections, imports, statement caches
                await one_run(svc, path, 5, warm, seed=99)
            await asyncio.sleep(1.0)
            rate = await idle_rate(svc.handoff_pid, args.idle_seconds)
            report["service_idle_cpu_ms_per_second"] = round(1000 * rate, 2)
            print(f"service idle: {1000 * rate:.1f} CPU ms/s", flush=True)
            for count in args.shoppers:
                runs: dict[str, list[Measured]] = {path: [] for path in args.paths}
                for repeat in range(args.repeat):
                    for path in args.paths:
                        profile_out = None
                        if args.profile and path == "service" and repeat == 0:
                            profile_out = ROOT / "var" / "bench" / f"relay-overhead-{args.db}-{count}.txt"
                        measured = await one_run(svc, path, count, args, seed=count, profile_out=profile_out)
                        runs[path].append(measured)
                        r = measured.run
                        cpu = (f"  cpu {1000 * measured.cpu_seconds / max(1, len(r.latencies)):.2f} ms/msg"
                               if path == "service" else "")
                        print(f"{count} shoppers via {path} (run {repeat + 1}): answered {len(r.latencies)}/{r.sent}"
                              f"  p50 {summary_ms(r.latencies)['p50']} p95 {summary_ms(r.latencies)['p95']} ms"
                              f"{cpu}  errors {r.errors}  load {measured.load_after}", flush=True)
                level: dict[str, Any] = {"shoppers": count}
                for path in args.paths:
                    level[path] = pooled(path, runs[path], rate)
                if args.profile and "service" in runs:
                    out = ROOT / "var" / "bench" / f"relay-overhead-{args.db}-{count}.txt"
                    level["service"]["profile"] = {"raw": str(out.relative_to(ROOT)),
                                                   **summarize_profile(out, top=25, skip_idle=True)}
                report["levels"].append(level)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def print_report(report: dict[str, Any]) -> None:
    rows = []
    for level in report["levels"]:
        for path in ("service", "direct"):
            if path not in level:
                continue
            r = level[path]
            echo = r.get("echo_ms") or {}
            rows.append([level["shoppers"], path, f"{r['answered']}/{r['sent']}", r["latency_ms"]["p50"],
                         r["latency_ms"]["p95"], r["latency_ms"]["p99"], echo.get("p50", ""), echo.get("p95", ""),
                         r["messages_per_second"], r.get("service_cpu_ms_per_message", ""),
                         r.get("service_cpu_ms_per_message_net", ""), sum(r["errors"].values()),
                         "/".join(map(str, r["load_average_after"]))])
    print()
    print_table(["shoppers", "path", "answered", "p50 ms", "p95 ms", "p99 ms", "echo p50", "echo p95", "msg/s",
                 "CPU ms/msg", "net", "errors", "load 1/5/15"], rows)


def _floats(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", default="10,50", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--messages", type=int, default=8,
                        help="per shopper (the conversation rate limit allows a burst of 10)")
    parser.add_argument("--think", type=_floats, default=(0.3, 1.0), help="seconds between answer and next message")
    parser.add_argument("--ramp", type=float, default=2.0, help="shoppers start within this many seconds")
    parser.add_argument("--reply-timeout", type=float, default=30)
    parser.add_argument("--repeat", type=int, default=3, help="runs per path and level, paths alternating")
    parser.add_argument("--paths", default="service,direct", type=lambda s: s.split(","))
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--profile", action="store_true", help="py-spy on the service during the first service run")
    parser.add_argument("--profile-seconds", type=float, default=10)
    parser.add_argument("--name", default=None, help="bench/results/<name>.json (default relay_overhead_<db>)")
    parser.add_argument("--serve-stub", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_stub is not None:
        serve_stub(args.serve_stub)
        return
    report = asyncio.run(main_async(args))
    print_report(report)
    print(f"\nwritten {write_result(args.name or f'relay_overhead_{args.db}', report)}")


if __name__ == "__main__":
    main()
