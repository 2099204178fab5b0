"""Handoff service under a 双11 queue: ticket claims and shopper→agent relay.

Over HTTP and WebSocket against a real `python -m handoff` process (the
production entry point, dispatcher running), one run per database:

* claims: 10,000 queued tickets (created in-process with the service's own
  ``create_ticket`` before the service starts), 200 logged-in agents with the
  default capacity of 3; every agent loops "claim the next ticket
  (POST /api/agent/claim) → resolve it (POST .../resolve)", as agents work
  through a queue. Reported: claim latency p50/p95/p99 for calls that got a
  ticket, empty claims, resolve latency, tickets claimed per second.
* relay (``--relay``): 500 open conversations, each a storefront shopper on
  /ws/shopper whose ticket an agent holds and watches on /ws/agent; shoppers
  send tagged messages at random times; latency = shopper sends → the
  owning agent's socket delivers that message, split at the message's
  ``created_at`` (the service took it) into send → stored and stored → agent.

    .venv/bin/python -m bench.handoff_claims --db sqlite,postgres --tickets 10000 --agents 200 --relay 500

The service's Rasa URL points at a closed port: resolving un-pauses the bot
with a call that fails at once (retried at the next bot turn, as documented).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (ROOT, load_average, machine, print_table, rss_mb, start_profile, summarize_profile,
                          summary_ms, write_result)
from tests import services

SKILLS = ["logistics", "returns", "usage", "orders", "complaints"]
REASONS = ["explicit_request", "complaint", "lost_parcel", "damaged_item", "refund_overdue", "threat", "anger"]
BOT_SECRET = "bench-bot-secret"
PASSWORD = "bench-pw"


# ------------------------------------------------------------------ seeding (in-process)

async def seed(db_url: str, tickets: int, agents: int, capacity: int) -> dict[str, float]:
    """Tables, agents (all skills) and queued tickets, written with the service's own code."""
    from handoff.agents import upsert_agent
    from handoff.bus import LocalBus
    from handoff.config import Settings
    from handoff.context import Context
    from handoff.db import create_tables, is_postgres, make_engines, session_factory
    from handoff.tickets import TicketRequest, create_ticket

    engine, writer = make_engines(db_url)
    settings = Settings(db_url=db_url, bot_secret=BOT_SECRET, run_dispatcher=False)
    ctx = Context(settings=settings, engine=engine, sessions=session_factory(engine), bus=LocalBus(),
                  rasa=None, postgres=is_postgres(db_url), writer=writer)  # type: ignore[arg-type]
    rng = random.Random(11)
    try:
        await create_tables(writer)
        started = time.perf_counter()
        for i in range(agents):
            await upsert_agent(ctx, f"bench{i:03d}", PASSWORD, f"坐席{i:03d}", SKILLS, capacity)
        agents_s = time.perf_counter() - started
        started = time.perf_counter()
        gate = asyncio.Semaphore(1 if db_url.startswith("sqlite") else 8)

        async def one(i: int) -> None:
            async with gate:
                await create_ticket(ctx, request(i))

        def request(i: int) -> TicketRequest:
            return TicketRequest(
                conversation_id=f"bench-{i:05d}", reason=REASONS[i % len(REASONS)], skill=SKILLS[i % 5],
                emotion_score=round(rng.random(), 2), vip_tier=rng.choice(["普通会员", "银卡会员", "金卡会员", "钻石会员"]),
                order_id=str(10**15 + i), order_amount=float(rng.randint(20, 3000)),
                summary={"last_text": "快递三天没动了", "intents": ["track_shipment"]},
            )

        await asyncio.gather(*(one(i) for i in range(tickets)))
        tickets_s = time.perf_counter() - started
        return {"agents_seconds": round(agents_s, 1), "tickets_seconds": round(tickets_s, 1),
                "tickets_created_per_second": round(tickets / tickets_s, 1) if tickets_s else None}
    finally:
        await ctx.dispose()


def service_usage(pid: int) -> dict[str, float]:
    """CPU seconds (all threads) and context switches (all threads) the service used so far.

    On a shared machine latency mostly measures the neighbours; CPU and switches per message
    or ticket measure the service itself (each switch is a trip to a driver thread and back).
    """
    tick = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    switches = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            for line in status.read_text(encoding="ascii").splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
        except OSError:  # the thread ended meanwhile
            pass
    return {"cpu_seconds": cpu, "context_switches": switches}


def usage_per(before: dict[str, float], after: dict[str, float], count: int, unit: str) -> dict[str, Any]:
    """Service CPU ms and context switches per ticket or message between two ``service_usage`` readings."""
    if not count:
        return {}
    return {f"service_cpu_ms_per_{unit}": round((after["cpu_seconds"] - before["cpu_seconds"]) * 1000 / count, 2),
            f"service_context_switches_per_{unit}": round(
                (after["context_switches"] - before["context_switches"]) / count, 1)}


def start_service(db_url: str, workdir: Path) -> tuple[services.Process, str]:
    port = services.free_port()
    env = {
        "KEFU_HANDOFF_DB_URL": db_url,
        "KEFU_HANDOFF_PORT": str(port),
        "KEFU_HANDOFF_HOST": "127.0.0.1",
        "KEFU_BOT_SECRET": BOT_SECRET,
        "KEFU_RASA_URL": f"http://127.0.0.1:{services.free_port()}",  # nothing listens: resume fails fast
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    url = f"http://127.0.0.1:{port}"
    process = services.start("handoff", [sys.executable, "-m", "handoff"], env, f"{url}/healthz", workdir)
    return process, url


async def login_all(http: aiohttp.ClientSession, url: str, count: int) -> list[dict[str, Any]]:
    """Log every agent in (8 at a time: scrypt costs CPU on the server)."""
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> dict[str, Any]:
        async with gate:
            async with http.post(f"{url}/api/agent/login", json={"username": f"bench{i:03d}", "password": PASSWORD}) as r:
                body = await r.json()
                if r.status != 200:
                    raise RuntimeError(f"login bench{i:03d}: {r.status} {body}")
                return {"token": body["token"], "id": body["agent"]["id"]}

    return await asyncio.gather(*(one(i) for i in range(count)))


# ------------------------------------------------------------------ claims

async def claims(url: str, agents: list[dict[str, Any]], tickets: int, max_seconds: float) -> dict[str, Any]:
    """Every agent: claim → resolve, until all tickets are taken or time is up."""
    claim_ok: list[float] = []
    claim_empty: list[float] = []
    resolve_times: list[float] = []
    errors: dict[str, int] = {}
    claimed: set[int] = set()
    duplicates = 0
    done = asyncio.Event()
    deadline = time.monotonic() + max_seconds

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async def agent_loop(http: aiohttp.ClientSession, agent: dict[str, Any]) -> None:
        nonlocal duplicates
        headers = {"Authorization": f"Bearer {agent['token']}"}
        while not done.is_set() and time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                async with http.post(f"{url}/api/agent/claim", headers=headers) as r:
                    body = await r.json()
                    status = r.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error(f"claim {type(exc).__name__}")
                continue
            elapsed = time.perf_counter() - started
            if status != 200:
                error(f"claim HTTP {status} {body.get('error')}")
                await asyncio.sleep(0.2)
                continue
            ticket = body.get("ticket")
            if ticket is None:
                claim_empty.append(elapsed)
                if len(claimed) >= tickets:
                    done.set()
                await asyncio.sleep(0.2)  # offers to others may lapse; try again shortly
                continue
            claim_ok.append(elapsed)
            if ticket["ticket_id"] in claimed:
                duplicates += 1
            claimed.add(ticket["ticket_id"])
            if len(claimed) >= tickets:
                done.set()
            started = time.perf_counter()
            try:
                async with http.post(f"{url}/api/conversations/{ticket['conversation_id']}/resolve",
                                     headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        error(f"resolve HTTP {r.status}")
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error(f"resolve {type(exc).__name__}")
                continue
            resolve_times.append(time.perf_counter() - started)

    load_before = load_average()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(agent_loop(http, a) for a in agents))
        elapsed = time.perf_counter() - started
    return {
        "tickets": tickets, "agents": len(agents), "claimed": len(claimed), "duplicates": duplicates,
        "seconds": round(elapsed, 1), "tickets_per_second": round(len(claimed) / elapsed, 1),
        "claim_ms": summary_ms(claim_ok), "empty_claim_ms": summary_ms(claim_empty),
        "resolve_ms": summary_ms(resolve_times), "errors": errors, "timed_out": not done.is_set(),
        "load_average_before": load_before, "load_average_after": load_average(),
    }


# ------------------------------------------------------------------ relay

async def relay(url: str, agents: list[dict[str, Any]], conversations: int, messages: int,
                spread_seconds: float, before_send=None) -> dict[str, Any]:
    """Shopper → agent delivery latency with ``conversations`` chats open at once."""
    bot = {"Authorization": f"Bearer {BOT_SECRET}"}
    connector = aiohttp.TCPConnector(limit=0)
    sent_at: dict[str, float] = {}
    sent_wall: dict[str, float] = {}  # time.time() at sending, to compare with the message's created_at
    latencies: list[float] = []
    to_service: list[float] = []  # shopper sends → the service stamps the message (created_at)
    from_service: list[float] = []  # created_at → the agent's socket delivers it
    errors: dict[str, int] = {}
    received = asyncio.Event()

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
        # 1. storefront conversations, handed over by the bot, claimed by agents.
        gate = asyncio.Semaphore(20)

        async def open_chat(i: int) -> dict[str, str]:
            async with gate:
                async with http.post(f"{url}/api/shopper/conversations") as r:
                    chat = await r.json()
                    if r.status != 201:
                        raise RuntimeError(f"new conversation {r.status}: {chat}")
                async with http.post(f"{url}/api/bot/handoff", headers=bot, json={
                        "conversation_id": chat["conversation_id"], "reason": REASONS[i % len(REASONS)],
                        "topic": SKILLS[i % 5], "summary": {"last_text": "我要找人工"}}) as r:
                    if r.status not in (200, 201):
                        raise RuntimeError(f"handoff {r.status}: {await r.text()}")
                return chat

        chats = await asyncio.gather(*(open_chat(i) for i in range(conversations)))
        owner: dict[str, int] = {}

        async def take(agent: dict[str, Any]) -> None:
            headers = {"Authorization": f"Bearer {agent['token']}"}
            while True:
                async with http.post(f"{url}/api/agent/claim", headers=headers) as r:
                    body = await r.json()
                if r.status != 200 or body.get("ticket") is None:
                    return
                owner[body["ticket"]["conversation_id"]] = agent["id"]

        # A ticket offered to an agent who filled up meanwhile waits for its offer to lapse
        # (offer_timeout_seconds, 20 s): keep claiming until every chat has its agent.
        give_up = time.monotonic() + 30
        while True:
            await asyncio.gather(*(take(a) for a in agents))
            if len(owner) >= conversations or time.monotonic() > give_up:
                break
            await asyncio.sleep(1)
        mine = [c for c in chats if c["conversation_id"] in owner]
        if len(mine) < conversations:
            error(f"only {len(mine)} of {conversations} conversations assigned")
        expected = len(mine) * messages  # wait for these, not for messages no agent can get

        # 2. agent consoles watching their conversations.
        by_id = {a["id"]: a for a in agents}
        consoles: dict[int, aiohttp.ClientWebSocketResponse] = {}
        for agent_id in sorted(set(owner.values())):
            consoles[agent_id] = await http.ws_connect(f"{url}/ws/agent?token={by_id[agent_id]['token']}")
        for chat in mine:
            await consoles[owner[chat["conversation_id"]]].send_json(
                {"type": "watch", "conversation_id": chat["conversation_id"], "after": 0})

        async def console_reader(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for frame in ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = frame.json()
                if data.get("type") != "message":
                    continue
                message = data["message"]
                tag = message.get("text", "")
                if message.get("sender") == "shopper" and tag in sent_at:
                    latencies.append(time.perf_counter() - sent_at.pop(tag))
                    from_service.append(time.time() - message["created_at"])
                    to_service.append(message["created_at"] - sent_wall.pop(tag))
                    if len(latencies) >= expected:
                        received.set()

        readers = [asyncio.ensure_future(console_reader(ws)) for ws in consoles.values()]
        await asyncio.sleep(1.0)  # history frames of the watch requests drain

        # 3. shoppers on their sockets send tagged messages at random times.
        sockets = [await http.ws_connect(
            f"{url}/ws/shopper?conversation_id={c['conversation_id']}&token={c['token']}") for c in mine]

        async def shopper(i: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            rng = random.Random(i)
            for n in range(messages):
                await asyncio.sleep(rng.uniform(0, spread_seconds / messages))
                tag = f"亲在吗 第{n + 1}条 #{i}-{n}"
                sent_at[tag] = time.perf_counter()
                sent_wall[tag] = time.time()
                await ws.send_json({"type": "message", "text": tag})

        async def shopper_drain(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for frame in ws:
                if frame.type == aiohttp.WSMsgType.TEXT and frame.json().get("type") == "error":
                    error(f"shopper error {frame.json().get('error')}")

        drains = [asyncio.ensure_future(shopper_drain(ws)) for ws in sockets]
        if before_send:
            before_send()
        load_before = load_average()
        started = time.perf_counter()
        await asyncio.gather(*(shopper(i, ws) for i, ws in enumerate(sockets)))
        try:
            await asyncio.wait_for(received.wait(), 60)
        except asyncio.TimeoutError:
            error("messages not delivered within 60 s")
        elapsed = time.perf_counter() - started
        load_after = load_average()
        for ws in [*sockets, *consoles.values()]:
            await ws.close()
        for task in [*readers, *drains]:
            task.cancel()
        await asyncio.gather(*readers, *drains, return_exceptions=True)
    return {
        "open_conversations": len(mine), "agents_holding": len(consoles), "messages_sent": expected,
        "delivered": len(latencies), "lost": len(sent_at), "seconds": round(elapsed, 1),
        "messages_per_second": round(len(latencies) / elapsed, 1), "latency_ms": summary_ms(latencies),
        "send_to_stored_ms": summary_ms(to_service), "stored_to_agent_ms": summary_ms(from_service),
        "errors": errors, "load_average_before": load_before, "load_average_after": load_after,
    }


# ------------------------------------------------------------------ driver

PROFILES = ROOT / "var" / "bench"


def profiled(process: services.Process, args: argparse.Namespace, name: str, seconds: float):
    """Start sampling the service (``--profile``); (popen, path) or None."""
    if not args.profile:
        return None
    path = PROFILES / f"handoff-{name}.txt"
    popen = start_profile(process.popen.pid, seconds, path)
    return (popen, path) if popen else None


def finish_profile(popen, path: Path) -> dict[str, Any]:
    try:
        popen.wait(timeout=120)
    except Exception:
        popen.kill()
    return {"raw": str(path.relative_to(ROOT)), **summarize_profile(path, top=25)}


async def run_claims(kind: str, db_url: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"[{kind}] seeding {args.tickets} tickets and {args.agents} agents ...", flush=True)
    seeded = await seed(db_url, args.tickets, args.agents, args.capacity)
    print(f"[{kind}] seeded: {seeded}", flush=True)
    process, url = start_service(db_url, workdir)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents = await login_all(http, url, args.agents)
        print(f"[{kind}] {len(agents)} agents logged in; claiming ...", flush=True)
        profile = profiled(process, args, f"{kind}-claims", 30)
        before = service_usage(process.popen.pid)
        result = await claims(url, agents, args.tickets, args.max_seconds)
        result.update(usage_per(before, service_usage(process.popen.pid), result["claimed"], "ticket"))
        result["seed"] = seeded
        result["service_rss_mb"] = rss_mb(process.popen.pid)
        if profile:
            result["profile"] = finish_profile(*profile)
        print(f"[{kind}] claims: { {k: v for k, v in result.items() if k != 'profile'} }", flush=True)
        return result
    finally:
        process.stop()


async def run_relay(kind: str, db_url: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """On its own fresh database: only the relay tickets are queued."""
    agents_needed = -(-args.relay // args.capacity)  # enough agents to hold every conversation
    await seed(db_url, 0, agents_needed, args.capacity)
    process, url = start_service(db_url, workdir)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents = await login_all(http, url, agents_needed)
        print(f"[{kind}] relay with {args.relay} open conversations, {len(agents)} agents ...", flush=True)
        holder: list = []
        usage: list[dict[str, float]] = []

        def before_send() -> None:
            usage.append(service_usage(process.popen.pid))
            holder.append(profiled(process, args, f"{kind}-relay", args.relay_spread))

        result = await relay(url, agents, args.relay, args.relay_messages, args.relay_spread, before_send=before_send)
        result.update(usage_per(usage[0], service_usage(process.popen.pid), result["delivered"], "message"))
        result["service_rss_mb"] = rss_mb(process.popen.pid)
        if holder and holder[0]:
            result["profile"] = finish_profile(*holder[0])
        print(f"[{kind}] relay: { {k: v for k, v in result.items() if k != 'profile'} }", flush=True)
        return result
    finally:
        process.stop()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results = []
    for kind in args.db:
        result: dict[str, Any] = {"db": kind}
        phases = [("claims", run_claims)] if args.tickets else []
        if args.relay:
            phases.append(("relay", run_relay))
        for phase, runner in phases:
            with ExitStack() as stack:
                workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kefu-claims-")))
                if kind == "sqlite":
                    db_url = f"sqlite:///{workdir / 'handoff.db'}"
                elif kind == "postgres":
                    db_url = stack.enter_context(services.postgres_database(prefix="kefu_bench"))
                else:
                    raise SystemExit(f"unknown database {kind!r} (sqlite, postgres)")
                result[phase] = await runner(kind, db_url, workdir, args)
        results.append(result)
    return {"machine": machine(), "args": vars(args), "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite,postgres", type=lambda s: s.split(","))
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--capacity", type=int, default=3, help="conversations an agent may hold (settings default 3)")
    parser.add_argument("--max-seconds", type=float, default=240, help="bound of the claim phase")
    parser.add_argument("--relay", type=int, default=500, help="open conversations for the relay test (0: skip)")
    parser.add_argument("--relay-messages", type=int, default=4, help="messages per shopper in the relay test")
    parser.add_argument("--relay-spread", type=float, default=20, help="seconds over which they are sent")
    parser.add_argument("--profile", action="store_true", help="py-spy the service during claims and relay")
    parser.add_argument("--name", default="handoff_claims", help="bench/results/<name>.json")
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    rows = []
    for r in report["results"]:
        if "claims" not in r:
            continue
        c = r["claims"]
        rows.append([r["db"], c["claimed"], c["seconds"], c["tickets_per_second"], c["claim_ms"]["p50"],
                     c["claim_ms"]["p99"], c["resolve_ms"]["p50"], c["duplicates"], sum(c["errors"].values()),
                     c.get("service_cpu_ms_per_ticket"), c.get("service_context_switches_per_ticket"),
                     "/".join(map(str, c["load_average_after"]))])
    print()
    if rows:
        print_table(["db", "claimed", "s", "tickets/s", "claim p50 ms", "claim p99 ms", "resolve p50 ms", "dup", "errors",
                     "cpu ms/ticket", "switches/ticket", "load 1/5/15"], rows)
    relay_rows = [[r["db"], r["relay"]["open_conversations"], r["relay"]["delivered"], r["relay"]["lost"],
                   r["relay"]["latency_ms"]["p50"], r["relay"]["latency_ms"]["p95"], r["relay"]["latency_ms"]["p99"],
                   r["relay"].get("service_cpu_ms_per_message"), r["relay"].get("service_context_switches_per_message"),
                   "/".join(map(str, r["relay"]["load_average_after"]))] for r in report["results"] if "relay" in r]
    if relay_rows:
        print()
        print_table(["db", "open convs", "delivered", "lost", "relay p50 ms", "p95 ms", "p99 ms", "cpu ms/msg",
                     "switches/msg", "load 1/5/15"], relay_rows)
    print(f"\nwritten {write_result(args.name, report)}")


if __name__ == "__main__":
    main()
