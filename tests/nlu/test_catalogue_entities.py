"""Catalogue names are recognised and canonicalised from the live catalogue files."""
import shutil
from pathlib import Path

import yaml

from bot.catalogue_entities import CatalogueEntityExtractor

ROOT = Path(__file__).resolve().parents[2]


def _found(extractor, text):
    return [(e["entity"], e["value"], text[e["start"]:e["end"]]) for e in extractor.find(text)]


def test_aliases_map_to_canonical_names():
    extractor = CatalogueEntityExtractor({"catalogue_path": str(ROOT / "data/catalogue")})
    assert _found(extractor, "用顺丰速运发的吗") == [("carrier", "顺丰", "顺丰速运")]
    assert _found(extractor, "买的炸锅怎么用") == [("product", "空气炸锅", "炸锅")]
    assert ("carrier", "顺丰", "sf") in _found(extractor, "能发sf吗")


def test_tracking_numbers_are_not_mistaken_for_carrier_codes():
    extractor = CatalogueEntityExtractor({"catalogue_path": str(ROOT / "data/catalogue")})
    assert _found(extractor, "单号SF1234567890123") == []


def test_a_product_added_to_the_catalogue_is_recognised_without_retraining(tmp_path):
    folder = tmp_path / "catalogue"
    shutil.copytree(ROOT / "data/catalogue", folder)
    extractor = CatalogueEntityExtractor({"catalogue_path": str(folder)})
    assert _found(extractor, "筋膜枪怎么充电") == []
    data = yaml.safe_load((folder / "products.yml").read_text("utf-8"))
    data["products"].append({"name": "筋膜枪", "aliases": ["按摩枪"], "category": "个护电器",
                             "price": 299, "returnable": True})
    (folder / "products.yml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    import os, time
    later = time.time() + 5
    os.utime(folder / "products.yml", (later, later))
    from rasa.shared.nlu.training_data.message import Message

    message = Message({"text": "按摩枪怎么充电"})
    extractor.process([message])
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("product", "筋膜枪")]


def test_diet_guesses_are_canonicalised_and_unknown_products_dropped():
    extractor = CatalogueEntityExtractor({"catalogue_path": str(ROOT / "data/catalogue")})
    diet = [
        {"entity": "carrier", "value": "顺丰快递", "start": 1, "end": 5, "extractor": "DIETClassifier"},
        {"entity": "product", "value": "炸", "start": 8, "end": 9, "extractor": "DIETClassifier"},
        {"entity": "order_id", "value": "3829104857263541", "start": 10, "end": 26, "extractor": "DIETClassifier"},
    ]
    merged = extractor.merge("发顺丰快递的那个炸锅3829104857263541", diet)
    assert [(e["entity"], e["value"]) for e in merged] == [
        ("carrier", "顺丰"), ("product", "空气炸锅"), ("order_id", "3829104857263541")]


def test_identifiers_of_impossible_shape_are_dropped():
    from rasa.shared.nlu.training_data.message import Message

    from bot.entity_shapes import EntityShapeFilter

    message = Message({"text": "下线了 886", "entities": [
        {"entity": "phone_tail", "value": "886", "start": 4, "end": 7},
        {"entity": "phone_tail", "value": "6621", "start": 0, "end": 4},
        {"entity": "order_id", "value": "12345", "start": 0, "end": 5},
        {"entity": "product", "value": "空气炸锅", "start": 0, "end": 4},
    ]})
    EntityShapeFilter().process([message])
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [
        ("phone_tail", "6621"), ("product", "空气炸锅")]
