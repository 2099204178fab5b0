"""What each NLU pipeline choice gains: train NLU-only variants of config.yml, score them held out.

    python -m bench.ablation                       # every variant
    python -m bench.ablation --variants shipped,no_char_ngrams

Each variant is config.yml with one choice taken out (or one setting changed),
trained with ``rasa train nlu`` on data/nlu only (the policies do not affect
NLU figures) into a temporary folder, and scored by ``bot.evaluate`` on
data/test/nlu_test.yml (acceptance) and data/test/nlu_dev_hard.yml, the same
way ``make evaluate`` scores the product. Results: bench/results/ablation.json.
"""
from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from bench.common import ROOT, machine, print_table, write_result

TEST_SETS = {"nlu_test": ROOT / "data/test/nlu_test.yml", "dev_hard": ROOT / "data/test/nlu_dev_hard.yml"}
Pipeline = list[dict[str, Any]]


def _without(*names: str) -> Callable[[Pipeline], Pipeline]:
    return lambda pipeline: [c for c in pipeline if c["name"] not in names]


def _no_dictionaries(pipeline: Pipeline) -> Pipeline:
    """Plain jieba: no data/dict, no catalogue words in the tokenizer, no catalogue extractor."""
    out = []
    for component in pipeline:
        if component["name"] == "bot.catalogue_entities.CatalogueEntityExtractor":
            continue
        if component["name"] == "bot.tokenizer.ChineseTokenizer":
            component = {"name": component["name"]}
        out.append(component)
    return out


def _no_char_ngrams(pipeline: Pipeline) -> Pipeline:
    return [c for c in pipeline if not (c["name"] == "CountVectorsFeaturizer" and c.get("analyzer") in ("char", "char_wb"))]


def _setting(names: tuple[str, ...], **settings: Any) -> Callable[[Pipeline], Pipeline]:
    """The components called ``names`` with ``settings`` changed."""
    return lambda pipeline: [{**c, **settings} if c["name"] in names else c for c in pipeline]


def _epochs(n: int) -> Callable[[Pipeline], Pipeline]:
    return _setting(("DIETClassifier", "ResponseSelector"), epochs=n)


def _char_ngrams(analyzer: str, max_ngram: int) -> Callable[[Pipeline], Pipeline]:
    """The character n-gram featurizer with another analyzer ("char" crosses jieba's word
    boundaries, "char_wb" stays inside words) or a longer top n-gram."""
    def change(pipeline: Pipeline) -> Pipeline:
        return [{**c, "analyzer": analyzer, "max_ngram": max_ngram}
                if c["name"] == "CountVectorsFeaturizer" and c.get("analyzer") in ("char", "char_wb") else c
                for c in pipeline]
    return change


def _cantonese(on: bool) -> Callable[[Pipeline], Pipeline]:
    return _setting(("bot.normalizer.ChineseNormalizer",), cantonese_to_mandarin=on)


def _selector_dense(n: int) -> Callable[[Pipeline], Pipeline]:
    """ResponseSelector's sparse-to-dense layers (Rasa's default: 512 units each for text and
    label): with ~25k sparse features they were 80 % of the model archive."""
    return _setting(("ResponseSelector",), dense_dimension={"text": n, "label": n})


VARIANTS: dict[str, Callable[[Pipeline], Pipeline]] = {
    "shipped": lambda pipeline: pipeline,
    "no_normalizer": _without("bot.normalizer.ChineseNormalizer"),
    "no_dictionaries": _no_dictionaries,
    "no_char_ngrams": _no_char_ngrams,
    "epochs_40": _epochs(40),
    "epochs_80": _epochs(80),
    "char_across_words": _char_ngrams("char", 3),
    "char_across_words_1_4": _char_ngrams("char", 4),
    "char_wb_1_4": _char_ngrams("char_wb", 4),
    "cantonese": _cantonese(True),
    "no_cantonese": _cantonese(False),
    "selector_dense_128": _selector_dense(128),
}


def variant_config(name: str, base: Path = ROOT / "config.yml") -> dict[str, Any]:
    config = yaml.safe_load(base.read_text("utf-8"))
    config["pipeline"] = VARIANTS[name](copy.deepcopy(config["pipeline"]))
    return config


def train_variant(name: str, workdir: Path) -> tuple[Path, float]:
    """NLU-only model of variant ``name``; (model path, wall seconds)."""
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(variant_config(name), allow_unicode=True), "utf-8")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config_path), "--nlu", "data/nlu",
                    "--domain", "domain.yml", "--out", str(workdir), "--fixed-model-name", name,
                    "--num-threads", "2"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return workdir / f"{name}.tar.gz", time.monotonic() - started


def score_variant(model: Path) -> dict[str, Any]:
    from bot.evaluate import evaluate

    return {set_name: evaluate(model, path, reports=None).summary() for set_name, path in TEST_SETS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--name", default="ablation", help="result file name in bench/results/")
    args = parser.parse_args(argv)
    names = [n for n in args.variants.split(",") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")

    report: dict[str, Any] = {"machine": machine(), "variants": {}}
    with tempfile.TemporaryDirectory(prefix="kefu-ablation-") as tmp:
        for name in names:
            print(f"training {name} ...", flush=True)
            model, seconds = train_variant(name, Path(tmp))
            report["variants"][name] = {"train_seconds": round(seconds), **score_variant(model)}
            write_result(args.name, report)  # partial results survive an interrupted run
    rows = []
    for name, result in report["variants"].items():
        t, d = result["nlu_test"], result["dev_hard"]
        rows.append([name, result["train_seconds"], t["intent_accuracy"], t["intent_accuracy_traditional"],
                     t["response_key_accuracy"], t["entity_f1"], d["intent_accuracy"], d["entity_f1"],
                     t["latency_p50_ms"]])
    print_table(["variant", "train s", "test intent", "test trad", "test faq", "test ent F1", "dev intent",
                 "dev ent F1", "parse p50 ms"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
