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
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    styles = {"handoff": ("tab:blue", "storefront → handoff → Rasa"), "direct": ("tab:orange", "Rasa REST channel")}
    for path, (colour, label) in styles.items():
        points = [(lv["shoppers"], lv[path]["latency_ms"]) for lv in levels if path in lv and lv[path]["latency_ms"]["p50"]]
        if not points:
            continue
        xs = [p[0] for p in points]
        ax.plot(xs, [p[1]["p50"] / 1000 for p in points], "-o", color=colour, label=f"{label}  p50")
        ax.plot(xs, [p[1]["p95"] / 1000 for p in points], "--s", color=colour, label=f"{label}  p95")
    ax.set_xscale("log")
    ticks = [lv["shoppers"] for lv in levels]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.set_xlabel("concurrent shoppers")
    ax.set_ylabel("reply latency (s)")
    machine = report.get("machine", {})
    ax.set_title(f"kefu reply latency vs. concurrent shoppers\n"
                 f"{machine.get('nproc')} cores ({machine.get('cpu_model')}), shared; "
                 f"{report['args'].get('messages')} messages/shopper", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
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
