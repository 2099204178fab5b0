"""kefu command line: train when stale, sync catalogue data, evaluate.

    kefu train [--force]      train models/kefu.tar.gz if data/config/domain changed
    kefu sync-catalogue       regenerate data/nlu/catalogue_lookups.yml
    kefu evaluate [MODEL]     held-out figures + reports/ (per-intent, confusion)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bot.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "kefu.tar.gz"
TRAINING_INPUTS = ["data", "config.yml", "domain.yml", "bot"]
# What Rasa trains on. Never all of data/: data/test (held-out sets) and data/dev (development
# sets) are in Rasa's format too, and `rasa train` with its default `--data data` would learn them.
TRAINING_DATA = ["data/nlu", "data/stories"]
LOOKUPS = ROOT / "data" / "nlu" / "catalogue_lookups.yml"
TEST_SET = ROOT / "data" / "test" / "nlu_test.yml"


def newest_input_mtime(root: Path = ROOT) -> float:
    """Latest modification time among the files that define the model."""
    times = []
    for name in TRAINING_INPUTS:
        path = root / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()
                                                and "__pycache__" not in p.parts and "test" not in p.parts]
        times += [p.stat().st_mtime for p in files]
    return max(times, default=0.0)


def model_is_stale(model: Path = MODEL) -> bool:
    return not model.exists() or model.stat().st_mtime < newest_input_mtime()


def lookup_tables_yaml() -> str:
    """The catalogue's names and aliases as Rasa lookup tables."""
    catalogue = load_catalogue(ROOT / "data" / "catalogue")
    lines = ["# Generated from data/catalogue by `kefu sync-catalogue` (make train). Do not edit.",
             'version: "3.1"', "nlu:"]
    for entity, aliases in catalogue.aliases.items():
        lines += [f"  - lookup: {entity}", "    examples: |"]
        lines += [f"      - {name}" for name in sorted({a for a in aliases if not a.isascii() or len(a) > 2})]
    return "\n".join(lines) + "\n"


def sync_catalogue() -> bool:
    """Rewrite the lookup tables if the catalogue changed; True when rewritten."""
    text = lookup_tables_yaml()
    if LOOKUPS.exists() and LOOKUPS.read_text("utf-8") == text:
        return False
    LOOKUPS.write_text(text, "utf-8")
    return True


def train(force: bool = False, num_threads: int = 2, out: Path | None = None) -> Path:
    """Train models/kefu.tar.gz unless it is newer than every training input (``out``: train
    into another folder instead, e.g. to compare with the running model)."""
    sync_catalogue()
    if out is None and not force and not model_is_stale():
        print(f"Model is up to date: {MODEL}")
        return MODEL
    # No --force: Rasa's training cache (.rasa/cache) retrains only the parts
    # of the graph whose inputs changed (a policy setting does not retrain DIET).
    cmd = [sys.executable, "-m", "rasa", "train", "--data", *TRAINING_DATA, "--fixed-model-name", "kefu",
           "--out", str(out or MODEL.parent), "--num-threads", str(num_threads)]
    if force:
        cmd.append("--force")
    subprocess.run(cmd, cwd=ROOT, check=True)
    if out is not None:
        return Path(out) / MODEL.name
    MODEL.touch()
    return MODEL


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kefu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="train the model if it is stale")
    p_train.add_argument("--force", action="store_true")
    p_train.add_argument("--out", type=Path, help="train into this folder (models/ is left alone)")
    sub.add_parser("sync-catalogue", help="regenerate catalogue lookup tables")
    p_eval = sub.add_parser("evaluate", help="score a model on the held-out test set")
    p_eval.add_argument("model", nargs="?", default=str(MODEL))
    p_eval.add_argument("--test", default=str(TEST_SET))
    p_eval.add_argument("--reports", default=str(ROOT / "reports"))
    args = parser.parse_args(argv)

    if args.command == "train":
        train(force=args.force, out=args.out)
    elif args.command == "sync-catalogue":
        print("updated" if sync_catalogue() else "unchanged", LOOKUPS)
    elif args.command == "evaluate":
        from bot.evaluate import evaluate

        scores = evaluate(args.model, args.test, args.reports)
        print(json.dumps(scores.summary(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
