"""Parse latency and held-out accuracy of the trained model, in process.

    .venv/bin/python -m bench.nlu_parse [--model models/kefu.tar.gz] [--test data/test/nlu_test.yml]

Loads the model once (reports the load time), parses every test example one
at a time as the server would, and prints p50/p95 latency with the accuracy.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time

from bot.evaluate import load_examples, predict, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/kefu.tar.gz")
    parser.add_argument("--test", default="data/test/nlu_test.yml")
    args = parser.parse_args()
    from rasa.core.agent import Agent

    started = time.perf_counter()
    agent = Agent.load(args.model)
    load_seconds = time.perf_counter() - started
    examples = load_examples(args.test)
    asyncio.run(predict(agent, examples[:20]))  # warm-up: first calls trace TF graphs
    scores = score(examples, asyncio.run(predict(agent, examples)))
    print(f"model load           {load_seconds:.1f} s")
    print(f"examples             {scores.n_examples}")
    print(f"parse latency p50    {scores.latency_p50_ms:.1f} ms")
    print(f"parse latency p95    {scores.latency_p95_ms:.1f} ms")
    print(f"intent accuracy      {scores.intent_accuracy:.3f}")
    print(f"load average         {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
