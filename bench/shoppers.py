"""N concurrent simulated shoppers, through the storefront and straight to Rasa.

For each level of concurrency (``--shoppers 10,50,200``) two runs with the
same scripts:

* **handoff**: each shopper opens a storefront conversation
  (POST /api/shopper/conversations) and chats on /ws/shopper, the way the
  widget does. Latency = message sent → first reply frame from the bot (or a
  system note: "bot slow", "bot down") on the socket.
* **direct**: the same messages POSTed to Rasa's REST channel
  (/webhooks/rest/webhook). Latency = request → response.

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

from bench.common import load_average, machine, print_table, rss_mb, summary_ms, write_result
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
    errors: dict[str, int] = field(default_factory=dict)
    system_notes: int = 0
    handed_off: int = 0
    sent: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def answered(self, script: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.by_script.setdefault(script, []).append(seconds)


async def via_handoff(http: aiohttp.ClientSession, stack: BenchStack, shopper: Shopper, run: Run,
                      args: argparse.Namespace, deadline: float, rng: random.Random) -> None:
    """One shopper on the storefront WebSocket."""
    try:
        async with http.post(f"{stack.handoff_url}/api/shopper/conversations") as r:
            if r.status != 201:
                run.error(f"create HTTP {r.status}")
                return
            chat = await r.json()
        ws = await http.ws_connect(
            f"{stack.handoff_url}/ws/shopper?conversation_id={chat['conversation_id']}&token={chat['token']}")
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        run.error(f"connect {type(exc).__name__}")
        return
    frames: asyncio.Queue = asyncio.Queue()

    async def reader() -> None:
        async for frame in ws:
            if frame.type == aiohttp.WSMsgType.TEXT:
                frames.put_nowait(frame.json())
        frames.put_nowait({"type": "closed"})

    reading = asyncio.ensure_future(reader())
    try:
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
            outcome = await _first_reply(frames, started, args.reply_timeout)
            if outcome[0] == "bot":
                run.answered(shopper.script, outcome[1])
            elif outcome[0] == "system":
                run.answered(shopper.script, outcome[1])
                run.system_notes += 1
            else:
                run.error(outcome[0])
            if outcome[2]:
                run.handed_off += 1
                break
            await asyncio.sleep(rng.uniform(*args.think))
    finally:
        await ws.close()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)


async def _first_reply(frames: asyncio.Queue, started: float, timeout: float) -> tuple[str, float, bool]:
    """(kind, seconds, handed_off): kind bot/system, or an error name."""
    handed_off = False
    limit = started + timeout
    while True:
        left = limit - time.perf_counter()
        if left <= 0:
            return "no reply in time", 0.0, handed_off
        try:
            frame = await asyncio.wait_for(frames.get(), left)
        except asyncio.TimeoutError:
            return "no reply in time", 0.0, handed_off
        kind = frame.get("type")
        if kind == "message":
            sender = frame["message"].get("sender")
            if sender in ("bot", "system"):
                return sender, time.perf_counter() - started, handed_off
        elif kind == "state" and frame.get("state") in ("queued", "assigned"):
            handed_off = True
        elif kind == "error":
            return f"error frame {frame.get('error')}", 0.0, handed_off
        elif kind == "closed":
            return "socket closed", 0.0, handed_off


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
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            run.error(f"rest {type(exc).__name__}")
            continue
        elapsed = time.perf_counter() - started
        if status != 200:
            run.error(f"rest HTTP {status}")
        elif not body:
            run.error("empty reply")
        else:
            run.answered(shopper.script, elapsed)
        await asyncio.sleep(rng.uniform(*args.think))


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


async def one_run(stack: BenchStack, path: str, shoppers: list[Shopper], args: argparse.Namespace) -> dict[str, Any]:
    run = Run()
    worker = via_handoff if path == "handoff" else direct
    sampler = Sampler(stack.pids())
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
    return {
        "path": path, "shoppers": len(shoppers), "sent": run.sent, "answered": len(run.latencies),
        "seconds": round(wall, 1), "messages_per_second": round(len(run.latencies) / wall, 2),
        "latency_ms": summary_ms(run.latencies),
        "latency_ms_by_script": {k: summary_ms(v) for k, v in sorted(run.by_script.items())},
        "errors": run.errors, "system_notes": run.system_notes, "handed_off": run.handed_off,
        "processes": processes, "load_average_before": load_before, "load_average_after": load_average(),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "args": {k: v for k, v in vars(args).items()}, "levels": []}
    with running_stack(model=args.model, rasa_env=args.rasa_env) as stack:
        report["rasa_model_load_seconds"] = round(stack.rasa_load_seconds or 0, 1)
        orders = demo_orders(stack.shop_db_url)
        # Warm up: the first turns of a fresh Rasa process are slow (lazy graph building).
        warm = make_shoppers(5, 4, orders, seed=99)
        await one_run(stack, "direct", warm, argparse.Namespace(**{**vars(args), "max_seconds": 60, "ramp": 0.5}))
        for count in args.shoppers:
            shoppers = make_shoppers(count, args.messages, orders, seed=count)
            level: dict[str, Any] = {"shoppers": count}
            for path in args.paths:
                print(f"{count} shoppers via {path} ...", flush=True)
                level[path] = await one_run(stack, path, shoppers, args)
                r = level[path]
                print(f"  answered {r['answered']}/{r['sent']}  p50 {r['latency_ms']['p50']} ms  "
                      f"p95 {r['latency_ms']['p95']} ms  {r['messages_per_second']} msg/s  errors {r['errors']}  "
                      f"load {r['load_average_after']}", flush=True)
            if "handoff" in level and "direct" in level:
                h, d = level["handoff"]["latency_ms"]["p95"], level["direct"]["latency_ms"]["p95"]
                level["p95_ratio_handoff_over_direct"] = round(h / d, 3) if h and d else None
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
                         sum(r["errors"].values()), r["system_notes"],
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
    parser.add_argument("--rasa-env", default="", type=_env, help="e.g. TF_INTRA_OP_PARALLELISM_THREADS=2,...")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--name", default="shoppers", help="bench/results/<name>.json")
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    print_report(report)
    print(f"\nwritten {write_result(args.name, report)}")


if __name__ == "__main__":
    main()
