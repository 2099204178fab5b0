"""Phone numbers, order numbers and addresses never appear in full in the logs."""
from __future__ import annotations

import logging

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

import actions  # noqa: F401  (installs the log masking, as the action server does)
from actions.address import ActionSubmitAddressChange
from bot.pii import mask_pii
from tests.actions.conftest import make_tracker, texts, verified
from tests.actions.shopdata import BUYER_PHONE

NEW_ADDRESS = "江苏省南京市鼓楼区中山北路88号2幢301室"


def test_mask_pii_keeps_the_shape_and_hides_the_person():
    assert mask_pii("手机13800006621，订单3829104857263541") == "手机138****6621，订单3829********3541"
    assert mask_pii("电话 138-0000-6621 / +86 139 1234 5678") == "电话 138****6621 / 139****5678"
    assert mask_pii("寄到浙江省杭州市余杭区文一西路1888号 电话0571-88886666") == "寄到浙江省杭州市余杭区**** 电话0571-****6666"
    assert mask_pii("我住幸福小区3栋2单元501室") == "****"  # without a city the whole phrase goes (over-masking is safe)
    assert mask_pii("lin.nvshi@example.com") == "l****@example.com"
    # Ordinary figures stay readable.
    for plain in ["尾号6621", "满99包邮，7天无理由", "2024-05-01 10:00:00", "价格1299元", "订单号是16到19位的数字"]:
        assert mask_pii(plain) == plain


async def test_database_error_during_address_change_logs_no_address_or_phone(shop_db, caplog):
    """SQLAlchemy puts the statement's parameters (the new address) into the traceback it logs."""
    with create_engine(shop_db).begin() as conn:
        conn.execute(text("CREATE TRIGGER no_writes BEFORE UPDATE ON orders "
                          "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"))
    caplog.set_level(logging.INFO)
    dispatcher = CollectingDispatcher()
    await ActionSubmitAddressChange().run(dispatcher, make_tracker(
        "是", intent="affirm", slots=verified("paid", new_address=NEW_ADDRESS, address_confirmed=True)), {})
    assert "稍后" in texts(dispatcher) or "抱歉" in texts(dispatcher)  # the shopper gets a polite answer
    logged = caplog.text
    assert "shop database error" in logged and "[parameters:" in logged  # the error itself was logged ...
    assert "江苏省南京市鼓楼区****" in logged
    assert NEW_ADDRESS not in logged and "中山北路" not in logged  # ... without the address
    assert BUYER_PHONE not in logged


def test_every_logger_is_masked_including_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    for name in ("actions.verification", "handoff.relay", "rasa.core.processor", "aiohttp.access"):
        logging.getLogger(name).info("shopper %s wants delivery to %s", "13800006621", "上海市徐汇区漕溪北路1号")
    try:
        raise ValueError("order 3829104857263541 for 13900001234")
    except ValueError:
        logging.getLogger("handoff.web_common").exception("failed")
    assert "13800006621" not in caplog.text and "漕溪北路" not in caplog.text
    assert "13900001234" not in caplog.text and "3829104857263541" not in caplog.text
    assert caplog.text.count("138****6621") == 4 and "3829********3541" in caplog.text
