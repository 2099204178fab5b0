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


def _tf_threads(intra: int, inter: int, **extra: str) -> dict[str, str]:
    """The two variables Rasa 3.6 reads at start (rasa/utils/tensorflow/environment.py) and passes to
    tf.config.threading; 0 or unset means one thread per core."""
    return {"TF_INTRA_OP_PARALLELISM_THREADS": str(intra), "TF_INTER_OP_PARALLELISM_THREADS": str(inter), **extra}


# Named intra x inter. OMP_NUM_THREADS is not Rasa's: it reaches OpenMP/BLAS (numpy, scipy), one variant.
VARIANTS: dict[str, dict[str, str]] = {
    "default": {},
    "tf1x1": _tf_threads(1, 1),
    "tf2x1": _tf_threads(2, 1),
    "tf1x2": _tf_threads(1, 2),
    "tf2x2": _tf_threads(2, 2),
    "tf1x1_omp1": _tf_threads(1, 1, OMP_NUM_THREADS="1"),
}
PARSE_TEXTS = [line for lines in SCRIPTS.values() for line in lines if "{" not in line] + MORE_FAQ + [
    "我买的东西坏了怎么办", "能不能便宜点", "我要投诉", "怎么改收货地址", "取消订单", "退款怎么还没到",
    "這個可以退貨嗎", "快遞到哪裡了", "亲 在不在", "东西收到了但是少了一件",
]


async def parse_latencies(http: aiohttp.ClientSession, stack: BenchStack, count: int,
                          predictions: dict[str, tuple[str, float]] | None = None) -> list[float]:
    """``count`` parses one at a time; fills ``predictions`` (text -> intent, confidence) if given."""
    url = f"{stack.rasa_url}/model/parse?token={stack.rasa_token}"
    out = []
    for i in range(count):
        text = PARSE_TEXTS[i % len(PARSE_TEXTS)]
        started = time.perf_counter()
        async with http.post(url, json={"text": text}) as r:
            body = await r.json(content_type=None)
            if r.status != 200:
                raise RuntimeError(f"parse HTTP {r.status}")
        out.append(time.perf_counter() - started)
        if predictions is not None:
            intent = body.get("intent") or {}
            predictions[text] = (str(intent.get("name")), float(intent.get("confidence") or 0.0))
    return out


def compare_predictions(base: dict[str, tuple[str, float]], other: dict[str, tuple[str, float]]) -> dict[str, Any]:
    """Thread settings must not change what the model says: intents that differ, largest confidence gap."""
    common = [t for t in base if t in other]
    return {"texts": len(common),
            "intent_changed": [t for t in common if base[t][0] != other[t][0]],
            "max_confidence_diff": round(max((abs(base[t][1] - other[t][1]) for t in common), default=0.0), 6)}


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
    load_at_start = load_average()
    load_seconds = stack.start_rasa(env)
    shoppers = make_shoppers(args.turn_shoppers, 4, orders, seed=7)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        await parse_latencies(http, stack, 10)  # warm-up: first calls build graphs lazily
        await turn_latencies(http, stack, make_shoppers(2, 4, orders, seed=3))
        load_before = load_average()
        predictions: dict[str, tuple[str, float]] = {}
        parse = await parse_latencies(http, stack, args.parse, predictions)
        turns, by_script, empty = await turn_latencies(http, stack, shoppers)
    return {
        "variant": name, "env": env, "model_load_seconds": round(load_seconds, 1),
        "load_average_at_model_load": load_at_start,
        "parse_ms": summary_ms(parse), "turn_ms": summary_ms(turns),
        "turn_ms_by_script": {k: summary_ms(v) for k, v in sorted(by_script.items())},
        "empty_replies": empty, "rasa_rss_mb": rss_mb(stack.pids()["rasa"]), "predictions": predictions,
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
        result[name] = {"raw": str(path.relative_to(ROOT)),
                        **summarize_profile(path, top=args.profile_top, skip_idle=True)}
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
        baseline = next((r["predictions"] for r in report["variants"] if r["variant"] == "default"), None)
        for result in report["variants"]:
            if baseline is not None:
                result["same_as_default"] = compare_predictions(baseline, result["predictions"])
        report["median_over_rounds"] = medians(report["variants"])
        best = min(report["median_over_rounds"], key=lambda name: report["median_over_rounds"][name]["sum_p50_ms"])
        report["fastest_variant"] = best
        if args.profile:
            env = VARIANTS[args.profile_variant or best]
            stack.start_rasa(env)
            print(f"profiling ({args.profile_variant or best}) for {args.profile_seconds} s ...", flush=True)
            report["profile"] = await profile_turns(stack, args, orders)
            report["profile"]["variant"] = args.profile_variant or best
    return report


def medians(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per setting, the median over rounds of parse p50, turn p50 and their sum (the ranking)."""
    from statistics import median

    by_variant: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_variant.setdefault(result["variant"], []).append(result)
    out = {}
    for name, runs in by_variant.items():
        parse = median(r["parse_ms"]["p50"] for r in runs)
        turn = median(r["turn_ms"]["p50"] for r in runs)
        out[name] = {"rounds": len(runs), "parse_p50_ms": parse, "turn_p50_ms": turn,
                     "sum_p50_ms": round(parse + turn, 1)}
    return out


def print_report(report: dict[str, Any]) -> None:
    rows = []
    for r in report["variants"]:
        same = r.get("same_as_default") or {}
        rows.append([r["round"], r["variant"], r["model_load_seconds"], r["parse_ms"]["p50"], r["parse_ms"]["p95"],
                     r["turn_ms"]["p50"], r["turn_ms"]["p95"], r["empty_replies"], r["rasa_rss_mb"],
                     len(same.get("intent_changed", [])), same.get("max_confidence_diff"),
                     "/".join(map(str, r["load_average_before"])), "/".join(map(str, r["load_average_after"]))])
    print()
    print_table(["round", "variant", "load s", "parse p50", "parse p95", "turn p50", "turn p95", "empty",
                 "RSS rasa", "intents changed", "max conf diff", "load before", "load after"], rows)
    print(f"\nfastest (median over rounds of parse p50 + turn p50): {report['fastest_variant']}  "
          f"model {report['model_mb']} MiB")
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
