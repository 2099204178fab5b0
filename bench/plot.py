"""Plot reply latency (p50, p95) against concurrent shoppers from bench/results/shoppers.json.

    .venv/bin/python -m bench.plot            # writes docs/benchmarks-latency.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)

from bench.common import RESULTS, ROOT  # noqa: E402


def plot(report: dict, out: Path) -> None:
    levels = report["levels"]
    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=120)
    styles = {"handoff": ("tab:blue", "storefront → handoff → Rasa"), "direct": ("tab:orange", "Rasa REST channel")}
    unanswered = []
    for path, (colour, label) in styles.items():
        runs = [(lv["shoppers"], lv[path]) for lv in levels if path in lv and lv[path]["latency_ms"]["p50"]]
        if not runs:
            continue
        xs = [n for n, _ in runs]
        ax.plot(xs, [r["latency_ms"]["p50"] / 1000 for _, r in runs], "-o", color=colour, label=f"{label}  p50")
        ax.plot(xs, [r["latency_ms"]["p95"] / 1000 for _, r in runs], "--s", color=colour, label=f"{label}  p95")
        # Percentiles cover answered messages only: say what was not answered.
        unanswered += [f"{n} shoppers, {'storefront' if path == 'handoff' else 'REST'}: "
                       f"{r['sent'] - r['answered']}/{r['sent']}" for n, r in runs if r["sent"] > r["answered"]]
    timeout = report["args"].get("reply_timeout")
    if timeout:
        ax.axhline(timeout, color="grey", linewidth=0.8, linestyle=":")
        ax.text(levels[0]["shoppers"], timeout * 1.06, f"reply timeout {timeout:.0f} s (p95 cannot exceed it)",
                fontsize=7, color="grey")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [lv["shoppers"] for lv in levels]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.set_xlabel("concurrent shoppers")
    ax.set_ylabel("reply latency (s, log scale)")
    machine = report.get("machine", {})
    load = sorted({round(lv[p]["load_average_after"][0], 1) for lv in levels for p in styles if p in lv})
    ax.set_title(f"kefu reply latency vs. concurrent shoppers\n"
                 f"{machine.get('nproc')} cores ({machine.get('cpu_model')}), shared: 1-min load "
                 f"{load[0]}-{load[-1]}; {report['args'].get('messages')} messages/shopper", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if unanswered:
        fig.text(0.01, 0.01, "unanswered (not in the percentiles): " + "; ".join(unanswered), fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS / "shoppers.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks-latency.png")
    args = parser.parse_args()
    plot(json.loads(args.results.read_text(encoding="utf-8")), args.out)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
