"""N concurrent simulated shoppers, through the storefront and straight to Rasa.

For each level of concurrency (``--shoppers 10,50,200``) two runs with the
same scripts:

* **handoff**: each shopper opens a storefront conversation
  (POST /api/shopper/conversations) and chats on /ws/shopper, the way the
  widget does. Latency = message sent → the bot's answer on the socket. The
  service sends a system note ("bot slow") when Rasa has not answered within
  ``bot_reply_timeout_seconds`` (5 s) and relays the late answer when it comes;
  such notes are counted, and the time to the first frame of any kind (what
  the shopper sees first) is reported separately, but the note is not the
  answer: counting it would cap the storefront latency at 5 s and make the
  handoff path look faster than Rasa itself under load.
* **direct**: the same messages POSTed to Rasa's REST channel
  (/webhooks/rest/webhook). Latency = request → response.

Unanswered messages are errors, by cause: no answer within ``--reply-timeout``,
an empty answer (Rasa replied ``[]``; on the storefront the service then says
"bot silent"), Rasa unreachable or failing ("bot unavailable" note), an error
frame, a closed socket. Percentiles cover answered messages only.

Each shopper follows one realistic script (greeting + FAQ, order status with
verification by order number and phone tail, parcel tracking, a return
request, FAQ only) with real order numbers and phone tails read from the demo
shop database, waits for each answer, thinks ``--think`` seconds, sends the
next. The ratio p95(handoff) / p95(direct) is the cost of the handoff service
(goal: under 1.10).

    .venv/bin/python -m bench.shoppers --shoppers 10,50,200 --messages 4

Starts the whole product itself (bench/stack.py); needs models/kefu.tar.gz.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import bindparam, create_engine, text

from bench.common import (ROOT, file_sha256, load_average, machine, print_table, rss_mb, start_profile,
                          summarize_profile, summary_ms, write_result)
from bench.shopper_socket import SocketNotOpened, shopper_socket
from bench.stack import MODEL, BenchStack, running_stack

SCRIPTS: dict[str, list[str]] = {
    "greet_faq": ["你好", "满多少包邮呀", "一般下单后几天发货", "好的谢谢"],
    "order_status": ["帮我查下订单状态", "{order}", "尾号{tail}", "快递到哪了"],
    "tracking": ["查一下物流", "订单号{order} 尾号{tail}", "大概什么时候能到", "好的谢谢"],
    "return": ["我要退货", "{order}", "尾号{tail}", "尺码不合适"],
    "faq_only": ["在吗", "退货运费谁出", "可以开发票吗", "偏远地区能发货吗"],
}
# Used when --messages is longer than a script.
MORE_FAQ = ["保修期多久", "用什么快递", "退款多久到账", "怎么选尺码", "可以换货吗", "新疆能发吗"]
SHIPPED = ("运输中", "派送中", "已发货")
DELIVERED = ("已签收", "已完成")


@dataclass
class Shopper:
    """One shopper's messages (script filled with a real order)."""

    script: str
    messages: list[str]


def demo_orders(shop_db_url: str) -> dict[str, list[tuple[str, str]]]:
    """(order number, phone tail) of shipped and of delivered demo orders."""
    engine = create_engine(shop_db_url)
    out: dict[str, list[tuple[str, str]]] = {}
    with engine.connect() as conn:
        for name, states in (("shipped", SHIPPED), ("delivered", DELIVERED)):
            rows = conn.execute(text(
                "select o.order_no, c.phone from orders o join customers c on c.id = o.customer_id "
                "where o.status in :states order by o.id").bindparams(bindparam("states", expanding=True)),
                {"states": list(states)})
            out[name] = [(r[0], r[1][-4:]) for r in rows]
    engine.dispose()
    if not out["shipped"] or not out["delivered"]:
        raise SystemExit("the demo shop has no shipped/delivered orders")
    return out


def make_shoppers(count: int, messages: int, orders: dict[str, list[tuple[str, str]]], seed: int) -> list[Shopper]:
    rng = random.Random(seed)
    names = list(SCRIPTS)
    shoppers = []
    for i in range(count):
        script = names[i % len(names)]
        pool = orders["delivered"] if script == "return" else orders["shipped"]
        order, tail = rng.choice(pool)
        lines = [m.format(order=order, tail=tail) for m in SCRIPTS[script]]
        while len(lines) < messages:
            lines.append(rng.choice(MORE_FAQ))
        shoppers.append(Shopper(script, lines[:messages]))
    return shoppers


@dataclass
class Run:
    """What one run measured."""

    latencies: list[float] = field(default_factory=list)
    by_script: dict[str, list[float]] = field(default_factory=dict)
    first_frame: list[float] = field(default_factory=list)
    echo: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    handed_off: int = 0
    sent: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def note(self, event: str) -> None:
        self.notes[event] = self.notes.get(event, 0) + 1

    def answered(self, script: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.by_script.setdefault(script, []).append(seconds)


async def via_handoff(http: aiohttp.ClientSession, stack: BenchStack, shopper: Shopper, run: Run,
                      args: argparse.Namespace, deadline: float, rng: random.Random) -> None:
    """One shopper on the storefront WebSocket."""
    try:
        async with shopper_socket(http, stack.handoff_url) as (ws, frames):
            for text_ in shopper.messages:
                if time.monotonic() > deadline:
                    break
                while not frames.empty():
                    frames.get_nowait()
                started = time.perf_counter()
                try:
                    await ws.send_json({"type": "message", "text": text_})
                except (ConnectionResetError, RuntimeError):
                    run.error("socket closed by the service")
                    break
                run.sent += 1
                reply = await _bot_reply(frames, started, args.reply_timeout)
                for event in reply.notes:
                    run.note(event)
                if reply.first_seconds is not None:
                    run.first_frame.append(reply.first_seconds)
                if reply.echo_seconds is not None:
                    run.echo.append(reply.echo_seconds)
                if reply.bot_seconds is not None:
                    run.answered(shopper.script, reply.bot_seconds)
                else:
                    run.error(reply.error or "no answer")
                if reply.handed_off:
                    run.handed_off += 1
                    break
                if reply.error in ("socket closed", "socket closed by the service"):
                    break
                await asyncio.sleep(rng.uniform(*args.think))
    except SocketNotOpened as exc:
        run.error(str(exc))


@dataclass
class Reply:
    """What the socket brought after one shopper message."""

    bot_seconds: float | None = None  # the bot's answer (None: no answer, see error)
    first_seconds: float | None = None  # first bot or system frame: what the shopper saw first
    echo_seconds: float | None = None  # the shopper's own message back: stored and broadcast, before Rasa
    notes: list[str] = field(default_factory=list)  # events of system notes ("bot_slow", "queued" ...)
    handed_off: bool = False
    error: str | None = None


# After these notes no bot answer will come for this message.
FINAL_NOTES = {"bot_silent": "empty reply (bot silent note)", "bot_unavailable": "rasa unavailable (bot down note)"}


async def _bot_reply(frames: asyncio.Queue, started: float, timeout: float) -> Reply:
    """Wait for the bot's answer to the message sent at ``started``, noting what came before it."""
    reply = Reply()
    limit = started + timeout
    while True:
        left = limit - time.perf_counter()
        try:
            if left <= 0:
                raise asyncio.TimeoutError
            frame = await asyncio.wait_for(frames.get(), left)
        except asyncio.TimeoutError:
            slow = " after a bot-slow note" if "bot_slow" in reply.notes else ""
            reply.error = f"no answer within {timeout:.0f} s{slow}"
            return reply
        kind = frame.get("type")
        now = time.perf_counter() - started
        if kind == "message":
            message = frame["message"]
            sender = message.get("sender")
            if sender == "shopper" and reply.echo_seconds is None:
                reply.echo_seconds = now
            if sender not in ("bot", "system"):
                continue
            if reply.first_seconds is None:
                reply.first_seconds = now
            if sender == "bot":
                reply.bot_seconds = now
                return reply
            event = str((message.get("extra") or {}).get("event") or "note")
            reply.notes.append(event)
            if event == "queued":
                reply.handed_off = True
            if event in FINAL_NOTES:
                reply.error = FINAL_NOTES[event]
                return reply
        elif kind == "state" and frame.get("state") in ("queued", "assigned"):
            reply.handed_off = True
        elif kind == "error":
            reply.error = f"error frame {frame.get('error')}"
            return reply
        elif kind == "closed":
            reply.error = "socket closed"
            return reply


async def direct(http: aiohttp.ClientSession, stack: BenchStack, shopper: Shopper, run: Run,
                 args: argparse.Namespace, deadline: float, rng: random.Random) -> None:
    """The same shopper straight to Rasa's REST channel."""
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    for text_ in shopper.messages:
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        run.sent += 1
        try:
            async with http.post(url, json={"sender": sender, "message": text_},
                                 timeout=aiohttp.ClientTimeout(total=args.reply_timeout)) as r:
                body = await r.json(content_type=None)
                status = r.status
        except asyncio.TimeoutError:
            run.error(f"no answer within {args.reply_timeout:.0f} s")
            continue
        except (aiohttp.ClientError, ValueError) as exc:
            run.error(f"rest {type(exc).__name__}: {str(exc)[:80]}")
            continue
        elapsed = time.perf_counter() - started
        if status != 200:
            run.error(f"rest HTTP {status}")
        elif not body and await _paused(http, stack, sender):
            # The previous turn handed over (action_handoff pauses the conversation): on the
            # storefront this shopper would now wait for an agent, so stop here as via_handoff does.
            run.sent -= 1
            run.handed_off += 1
            break
        elif not body:
            run.error("empty reply")
        else:
            run.answered(shopper.script, elapsed)
        await asyncio.sleep(rng.uniform(*args.think))


async def _paused(http: aiohttp.ClientSession, stack: BenchStack, sender: str) -> bool:
    """Whether Rasa paused this conversation (a handoff); asked only after an empty reply."""
    url = f"{stack.rasa_url}/conversations/{sender}/tracker"
    try:
        async with http.get(url, params={"token": stack.rasa_token, "include_events": "NONE"},
                            timeout=aiohttp.ClientTimeout(total=30)) as r:
            return r.status == 200 and bool((await r.json(content_type=None)).get("paused"))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return False


class Sampler:
    """RSS and CPU seconds of each service process, sampled every second."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.rss: dict[str, list[float]] = {name: [] for name in pids}
        self.cpu_start = {name: _cpu_seconds(pid) for name, pid in pids.items()}
        self.task: asyncio.Task | None = None

    async def _loop(self) -> None:
        while True:
            for name, pid in self.pids.items():
                value = rss_mb(pid)
                if value is not None:
                    self.rss[name].append(value)
            await asyncio.sleep(1.0)

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._loop())

    async def stop(self, wall: float) -> dict[str, Any]:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        out = {}
        for name, pid in self.pids.items():
            used = _cpu_seconds(pid) - self.cpu_start[name]
            out[name] = {"rss_mb_max": max(self.rss[name], default=None),
                         "rss_mb_end": self.rss[name][-1] if self.rss[name] else None,
                         "cpu_seconds": round(used, 1), "cpu_share_of_one_core": round(used / wall, 2)}
        return out


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc/<pid>/stat."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


async def settle(pid: int, idle_share: float = 0.15, most_seconds: float = 120) -> float:
    """Wait until Rasa is idle (under ``idle_share`` of a core over 2 s); returns seconds waited.

    Rasa may still be working through requests whose client gave up (timeouts at
    200 shoppers); the next run must not inherit that queue.
    """
    started = time.monotonic()
    while time.monotonic() - started < most_seconds:
        before = _cpu_seconds(pid)
        await asyncio.sleep(2.0)
        if (_cpu_seconds(pid) - before) / 2.0 < idle_share:
            break
    return round(time.monotonic() - started, 1)


@dataclass
class Measured:
    """One run of one path: the raw figures, pooled later when a level is repeated."""

    run: Run
    wall: float
    processes: dict[str, Any]
    settle_seconds: float
    load_before: list[float]
    load_after: list[float]
    profile: dict[str, Any]


async def one_run(stack: BenchStack, path: str, shoppers: list[Shopper], args: argparse.Namespace,
                  profile: bool = False) -> Measured:
    run = Run()
    worker = via_handoff if path == "handoff" else direct
    settled = await settle(stack.pids()["rasa"])
    sampler = Sampler(stack.pids())
    spies = {}
    if profile:  # py-spy on the services for the first seconds of the run (raw stacks in var/bench/)
        for name in ("handoff", "rasa"):
            out = ROOT / "var" / "bench" / f"shoppers-{len(shoppers)}-{path}-{name}.txt"
            spies[name] = (start_profile(stack.pids()[name], args.profile_seconds, out), out)
    load_before = load_average()
    deadline = time.monotonic() + args.max_seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as http:
        async def start_later(i: int, shopper: Shopper) -> None:
            rng = random.Random(1000 + i)
            await asyncio.sleep(rng.uniform(0, args.ramp))
            await worker(http, stack, shopper, run, args, deadline, rng)

        sampler.start()
        started = time.perf_counter()
        await asyncio.gather(*(start_later(i, s) for i, s in enumerate(shoppers)))
        wall = time.perf_counter() - started
    processes = await sampler.stop(wall)
    profiles = {}
    for name, (popen, out) in spies.items():
        if popen is None:
            profiles[name] = {"error": "py-spy is not installed"}
            continue
        await asyncio.get_running_loop().run_in_executor(None, popen.wait)
        profiles[name] = {"raw": str(out.relative_to(ROOT)), "seconds": args.profile_seconds,
                          **summarize_profile(out, top=15, skip_idle=True)}
    return Measured(run, wall, processes, settled, load_before, load_average(), profiles)


def _count(into: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    for key, value in more.items():
        into[key] = into.get(key, 0) + value
    return into


def pooled(path: str, shoppers: int, runs: list[Measured]) -> dict[str, Any]:
    """One path at one level; with ``--repeat`` the runs' messages are pooled and each run is listed."""
    latencies = [x for m in runs for x in m.run.latencies]
    by_script: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    notes: dict[str, int] = {}
    for m in runs:
        for script, values in m.run.by_script.items():
            by_script.setdefault(script, []).extend(values)
        _count(errors, m.run.errors)
        _count(notes, m.run.notes)
    wall = sum(m.wall for m in runs)
    processes = {}
    for name in runs[0].processes:
        cpu = sum(m.processes[name]["cpu_seconds"] for m in runs)
        processes[name] = {"rss_mb_max": max((m.processes[name]["rss_mb_max"] or 0) for m in runs),
                           "cpu_seconds": round(cpu, 1), "cpu_share_of_one_core": round(cpu / wall, 2),
                           "cpu_ms_per_answer": round(1000 * cpu / len(latencies), 1) if latencies else None}
    result: dict[str, Any] = {
        "path": path, "shoppers": shoppers, "runs": len(runs), "sent": sum(m.run.sent for m in runs),
        "answered": len(latencies), "seconds": round(wall, 1),
        "messages_per_second": round(len(latencies) / wall, 2),
        "latency_ms": summary_ms(latencies),
        "latency_ms_by_script": {k: summary_ms(v) for k, v in sorted(by_script.items())},
        "first_frame_ms": summary_ms([x for m in runs for x in m.run.first_frame]) if path == "handoff" else None,
        "echo_ms": summary_ms([x for m in runs for x in m.run.echo]) if path == "handoff" else None,
        "errors": errors, "system_notes": notes, "handed_off": sum(m.run.handed_off for m in runs),
        "processes": processes, "settle_seconds": [m.settle_seconds for m in runs],
        "load_average_before": runs[0].load_before, "load_average_after": runs[-1].load_after,
    }
    if len(runs) > 1:
        result["each_run"] = [{"latency_ms": summary_ms(m.run.latencies), "sent": m.run.sent,
                               "answered": len(m.run.latencies), "load_average_before": m.load_before,
                               "load_average_after": m.load_after} for m in runs]
    profiles = [m.profile for m in runs if m.profile]
    if profiles:
        result["profile"] = profiles[0]
    return result


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "args": {k: v for k, v in vars(args).items()},
                              "model_sha256": file_sha256(args.model), "levels": []}
    with running_stack(model=args.model, rasa_env=args.rasa_env, handoff_db=args.handoff_db,
                       keep_dir=args.keep_logs) as stack:
        report["rasa_model_load_seconds"] = round(stack.rasa_load_seconds or 0, 1)
        orders = demo_orders(stack.shop_db_url)
        # Warm up both paths: the first turns of a fresh Rasa process are slow (lazy graph
        # building), and so are the handoff service's first conversations (connections, imports).
        warm = make_shoppers(5, 4, orders, seed=99)
        warm_args = argparse.Namespace(**{**vars(args), "max_seconds": 60, "ramp": 0.5})
        for path in args.paths:
            await one_run(stack, path, warm, warm_args)
        for count in args.shoppers:
            shoppers = make_shoppers(count, args.messages, orders, seed=count)
            level: dict[str, Any] = {"shoppers": count}
            runs: dict[str, list[Measured]] = {path: [] for path in args.paths}
            for repeat in range(args.repeat):  # paths alternate, so a change in machine load hits both
                for path in args.paths:
                    print(f"{count} shoppers via {path}" + (f" (run {repeat + 1})" if args.repeat > 1 else "") +
                          " ...", flush=True)
                    measured = await one_run(stack, path, shoppers, args, profile=args.profile and repeat == 0)
                    runs[path].append(measured)
                    r = measured.run
                    print(f"  answered {len(r.latencies)}/{r.sent}  {summary_ms(r.latencies)}  errors {r.errors}  "
                          f"load {measured.load_after}", flush=True)
            for path in args.paths:
                level[path] = pooled(path, count, runs[path])
            if "handoff" in level and "direct" in level:
                h, d = level["handoff"]["latency_ms"]["p95"], level["direct"]["latency_ms"]["p95"]
                level["p95_ratio_handoff_over_direct"] = round(h / d, 3) if h and d else None
                h, d = level["handoff"]["latency_ms"]["p50"], level["direct"]["latency_ms"]["p50"]
                level["p50_ratio_handoff_over_direct"] = round(h / d, 3) if h and d else None
            report["levels"].append(level)
    return report


def print_report(report: dict[str, Any]) -> None:
    rows = []
    for level in report["levels"]:
        for path in ("handoff", "direct"):
            if path not in level:
                continue
            r = level[path]
            p = r["processes"]
            rows.append([level["shoppers"], path, f"{r['answered']}/{r['sent']}", r["latency_ms"]["p50"],
                         r["latency_ms"]["p95"], r["latency_ms"]["p99"], r["messages_per_second"],
                         sum(r["errors"].values()), sum(r["system_notes"].values()),
                         p.get("handoff", {}).get("rss_mb_max"), p.get("rasa", {}).get("rss_mb_max"),
                         p.get("actions", {}).get("rss_mb_max"),
                         level.get("p95_ratio_handoff_over_direct") if path == "handoff" else "",
                         "/".join(map(str, r["load_average_after"]))])
    print()
    print_table(["shoppers", "path", "answered", "p50 ms", "p95 ms", "p99 ms", "msg/s", "errors", "notes",
                 "RSS handoff", "RSS rasa", "RSS actions", "p95 ratio", "load 1/5/15"], rows)


def _floats(text_: str) -> tuple[float, float]:
    low, _, high = text_.partition("-")
    return float(low), float(high or low)


def _env(text_: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text_.split(",") if item)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", default="10,50,200", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--messages", type=int, default=4, help="messages per shopper")
    parser.add_argument("--think", type=_floats, default=(1.0, 3.0), help="seconds between answer and next message")
    parser.add_argument("--ramp", type=float, default=5.0, help="shoppers start within this many seconds")
    parser.add_argument("--max-seconds", type=float, default=150, help="bound per run: no new message after it")
    parser.add_argument("--reply-timeout", type=float, default=30)
    parser.add_argument("--paths", default="handoff,direct", type=lambda s: s.split(","))
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per path and level, alternating paths; messages are pooled")
    parser.add_argument("--rasa-env", default="", type=_env, help="e.g. TF_INTRA_OP_PARALLELISM_THREADS=2,...")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--handoff-db", default="sqlite", choices=("sqlite", "postgres"),
                        help="the handoff service's database (tests use SQLite, production PostgreSQL)")
    parser.add_argument("--profile", action="store_true", help="py-spy on handoff and Rasa during each run")
    parser.add_argument("--profile-seconds", type=float, default=30)
    parser.add_argument("--keep-logs", action="store_true", help="keep the services' logs (temp dir printed)")
    parser.add_argument("--name", default="shoppers", help="bench/results/<name>.json")
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    print_report(report)
    print(f"\nwritten {write_result(args.name, report)}")


if __name__ == "__main__":
    main()
