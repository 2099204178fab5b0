"""The model never trains on the sets it is judged by."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import ROOT, TRAINING_DATA

pytest.importorskip("rasa")


def _training_texts() -> set[str]:
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / p) for p in TRAINING_DATA])
    return {m.get("text") for m in importer.get_nlu_data().intent_examples}


@pytest.mark.parametrize("held_out", sorted((ROOT / "data" / "test").glob("nlu_*.yml")), ids=lambda p: p.name)
def test_held_out_nlu_examples_are_not_training_examples(held_out: Path):
    from rasa.shared.nlu.training_data.loading import load_data

    training = _training_texts()
    leaked = [m.get("text") for m in load_data(str(held_out)).intent_examples if m.get("text") in training]
    assert not leaked, f"{held_out.name}: {len(leaked)} examples are trained on, e.g. {leaked[:3]}"


def test_training_reads_only_the_training_folders():
    assert all(not p.startswith(("data/test", "data/dev")) and p != "data" for p in TRAINING_DATA)
