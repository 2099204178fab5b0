"""The bot alone: model load, parse latency, full-turn latency, thread settings, profile.

For each TensorFlow/OpenMP thread setting (``--variants``) the Rasa server is
started afresh with that environment (the action server stays up):

* model load: from launching `rasa run` until /status names the model;
* parse: POST /model/parse, one request at a time, shopper sentences;
* full turn: the shopper scripts of bench/shoppers.py one message at a time
  over the REST channel (/webhooks/rest/webhook), custom actions included
  (verification, order lookups in the demo shop).

Then (``--profile``) py-spy samples the Rasa server and the action server
while a few shoppers chat concurrently, and the report names the biggest
costs (per package and per function).

    .venv/bin/python -m bench.bot --parse 200 --turn-shoppers 10 --profile
"""
from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (ROOT, load_average, machine, print_table, rss_mb, start_profile, summarize_profile,
                          summary_ms, write_result)
from bench.shoppers import MORE_FAQ, SCRIPTS, demo_orders, make_shoppers
from bench.stack import MODEL, BenchStack, running_stack

VARIANTS: dict[str, dict[str, str]] = {
    "default": {},
    "tf1x1_omp1": {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1",
                   "OMP_NUM_THREADS": "1"},
    "tf2x1_omp2": {"TF_INTRA_OP_PARALLELISM_THREADS": "2", "TF_INTER_OP_PARALLELISM_THREADS": "1",
                   "OMP_NUM_THREADS": "2"},
    "tf2x2_omp2": {"TF_INTRA_OP_PARALLELISM_THREADS": "2", "TF_INTER_OP_PARALLELISM_THREADS": "2",
                   "OMP_NUM_THREADS": "2"},
    "tf1x2_omp1": {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "2",
                   "OMP_NUM_THREADS": "1"},
}
PARSE_TEXTS = [line for lines in SCRIPTS.values() for line in lines if "{" not in line] + MORE_FAQ + [
    "我买的东西坏了怎么办", "能不能便宜点", "我要投诉", "怎么改收货地址", "取消订单", "退款怎么还没到",
    "這個可以退貨嗎", "快遞到哪裡了", "亲 在不在", "东西收到了但是少了一件",
]


async def parse_latencies(http: aiohttp.ClientSession, stack: BenchStack, count: int) -> list[float]:
    url = f"{stack.rasa_url}/model/parse?token={stack.rasa_token}"
    out = []
    for i in range(count):
        started = time.perf_counter()
        async with http.post(url, json={"text": PARSE_TEXTS[i % len(PARSE_TEXTS)]}) as r:
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"parse HTTP {r.status}")
        out.append(time.perf_counter() - started)
    return out


async def turn_latencies(http: aiohttp.ClientSession, stack: BenchStack, shoppers) -> tuple[list[float], dict, int]:
    """Scripts one message at a time; (latencies, by script, empty replies)."""
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    out: list[float] = []
    by_script: dict[str, list[float]] = {}
    empty = 0
    for shopper in shoppers:
        sender = f"bench-bot-{uuid.uuid4().hex[:10]}"
        for text in shopper.messages:
            started = time.perf_counter()
            async with http.post(url, json={"sender": sender, "message": text}) as r:
                body = await r.json(content_type=None)
            elapsed = time.perf_counter() - started
            if not body:
                empty += 1
                continue
            out.append(elapsed)
            by_script.setdefault(shopper.script, []).append(elapsed)
    return out, by_script, empty


async def concurrent_chat(stack: BenchStack, shoppers, seconds: float) -> int:
    """Shoppers chatting at once (think 0.2-0.5 s) for about ``seconds``; returns turns done."""
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    deadline = time.monotonic() + seconds
    done = 0

    async def one(i: int, shopper) -> None:
        nonlocal done
        rng = random.Random(i)
        while time.monotonic() < deadline:
            sender = f"bench-prof-{uuid.uuid4().hex[:10]}"
            for text in shopper.messages:
                if time.monotonic() > deadline:
                    return
                async with http.post(url, json={"sender": sender, "message": text}) as r:
                    await r.read()
                done += 1
                await asyncio.sleep(rng.uniform(0.2, 0.5))

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        await asyncio.gather(*(one(i, s) for i, s in enumerate(shoppers)))
    return done


async def measure_variant(stack: BenchStack, name: str, env: dict[str, str], args, orders) -> dict[str, Any]:
    load_seconds = stack.start_rasa(env)
    shoppers = make_shoppers(args.turn_shoppers, 4, orders, seed=7)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        await parse_latencies(http, stack, 10)  # warm-up: first calls build graphs lazily
        await turn_latencies(http, stack, make_shoppers(2, 4, orders, seed=3))
        load_before = load_average()
        parse = await parse_latencies(http, stack, args.parse)
        turns, by_script, empty = await turn_latencies(http, stack, shoppers)
    return {
        "variant": name, "env": env, "model_load_seconds": round(load_seconds, 1),
        "parse_ms": summary_ms(parse), "turn_ms": summary_ms(turns),
        "turn_ms_by_script": {k: summary_ms(v) for k, v in sorted(by_script.items())},
        "empty_replies": empty, "rasa_rss_mb": rss_mb(stack.pids()["rasa"]),
        "load_average_before": load_before, "load_average_after": load_average(),
    }


async def profile_turns(stack: BenchStack, args, orders) -> dict[str, Any]:
    """py-spy on Rasa and the action server while shoppers chat concurrently."""
    out_dir = ROOT / "var" / "bench"
    pids = stack.pids()
    seconds = args.profile_seconds
    spies = {name: (start_profile(pids[name], seconds, out_dir / f"bot-{name}.txt"), out_dir / f"bot-{name}.txt")
             for name in ("rasa", "actions")}
    if any(popen is None for popen, _ in spies.values()):
        return {"error": "py-spy is not installed"}
    await asyncio.sleep(1.0)  # py-spy attaches
    turns = await concurrent_chat(stack, make_shoppers(args.profile_shoppers, 4, orders, seed=5), seconds - 2)
    result: dict[str, Any] = {"seconds": seconds, "concurrent_shoppers": args.profile_shoppers, "turns": turns,
                              "load_average": load_average()}
    for name, (popen, path) in spies.items():
        try:
            popen.wait(timeout=seconds + 60)
        except Exception:
            popen.kill()
        result[name] = {"raw": str(path.relative_to(ROOT)), **summarize_profile(path, top=args.profile_top)}
    return result


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "args": vars(args), "model": str(args.model),
                              "model_mb": round(args.model.stat().st_size / 2**20, 1), "variants": []}
    with running_stack(model=args.model, handoff=False, rasa_now=False) as stack:
        orders = demo_orders(stack.shop_db_url)
        for round_ in range(args.rounds):
            for name in args.variants:
                print(f"round {round_ + 1}: {name} ...", flush=True)
                result = await measure_variant(stack, name, VARIANTS[name], args, orders)
                result["round"] = round_ + 1
                report["variants"].append(result)
                print(f"  load {result['model_load_seconds']} s  parse p50 {result['parse_ms']['p50']} ms "
                      f"p95 {result['parse_ms']['p95']}  turn p50 {result['turn_ms']['p50']} ms "
                      f"p95 {result['turn_ms']['p95']}  load avg {result['load_average_after']}", flush=True)
        best = min(report["variants"], key=lambda r: (r["turn_ms"]["p50"] or 1e9) + (r["parse_ms"]["p50"] or 1e9))
        report["fastest_variant"] = best["variant"]
        if args.profile:
            env = VARIANTS[args.profile_variant or best["variant"]]
            stack.start_rasa(env)
            print(f"profiling ({args.profile_variant or best['variant']}) for {args.profile_seconds} s ...", flush=True)
            report["profile"] = await profile_turns(stack, args, orders)
            report["profile"]["variant"] = args.profile_variant or best["variant"]
    return report


def print_report(report: dict[str, Any]) -> None:
    rows = [[r["round"], r["variant"], r["model_load_seconds"], r["parse_ms"]["p50"], r["parse_ms"]["p95"],
             r["turn_ms"]["p50"], r["turn_ms"]["p95"], r["empty_replies"], r["rasa_rss_mb"],
             "/".join(map(str, r["load_average_after"]))] for r in report["variants"]]
    print()
    print_table(["round", "variant", "load s", "parse p50", "parse p95", "turn p50", "turn p95", "empty",
                 "RSS rasa", "load 1/5/15"], rows)
    print(f"\nfastest (parse p50 + turn p50): {report['fastest_variant']}  model {report['model_mb']} MiB")
    profile = report.get("profile")
    if profile and "rasa" in profile:
        for name in ("rasa", "actions"):
            print(f"\n{name}: biggest costs ({profile[name]['samples']} samples)")
            for item in profile[name]["by_package"][:8]:
                print(f"  {item['share'] * 100:5.1f}%  {item['function']}")
            for item in profile[name]["inclusive"][:12]:
                print(f"  {item['share'] * 100:5.1f}%  {item['function']}  (inclusive)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--variants", default=",".join(VARIANTS), type=lambda s: s.split(","))
    parser.add_argument("--rounds", type=int, default=1, help="repeat every variant (noise check)")
    parser.add_argument("--parse", type=int, default=200, help="parse requests per variant")
    parser.add_argument("--turn-shoppers", type=int, default=10, help="scripts of 4 messages per variant")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-variant", default=None)
    parser.add_argument("--profile-seconds", type=float, default=40)
    parser.add_argument("--profile-shoppers", type=int, default=4)
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--name", default="bot", help="bench/results/<name>.json")
    args = parser.parse_args()
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    report = asyncio.run(main_async(args))
    print_report(report)
    print(f"\nwritten {write_result(args.name, report)}")


if __name__ == "__main__":
    main()
