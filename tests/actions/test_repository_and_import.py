"""Repository and importer: SQLite always, PostgreSQL when marked (same code)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from actions.demo.generator import generate
from actions.importer import ShopDataError, load_dataset
from actions.importer.loader import ShopNotEmpty
from actions.shop.db import dispose_engines
from actions.shop.repository import OrderStateChanged, ShopRepository
from tests.actions import shopdata
from tests.actions.shopdata import ORDERS


async def exercise_repository(url: str) -> None:
    """What the actions rely on, against whichever database ``url`` names."""
    await load_dataset(shopdata.build(), url, replace=True)
    repo = ShopRepository(url)
    assert (await repo.verify(ORDERS["paid"], "6621")).ok
    assert (await repo.verify(ORDERS["paid"], "1234")).outcome == "phone_mismatch"
    assert (await repo.verify("1234567890123456", "6621")).outcome == "unknown_order"
    order = await repo.get_order(ORDERS["transit"])
    assert order.shipment.tracking_no == "ZT0000000000004" and len(order.shipment.events) == 3
    assert [i.product.name for i in order.items] == ["空气炸锅"]
    latest = await repo.latest_order(order.customer_id)
    assert latest.order_no == ORDERS["unpaid"]
    assert (await repo.find_product("炸锅")).name == "空气炸锅"
    assert (await repo.find_product("我的帽衫洗了会缩水吗")).name == "卫衣"
    await repo.record_urge(ORDERS["paid"], "买家催发货")
    assert await repo.urge_count(ORDERS["paid"]) == 1
    await repo.change_address(ORDERS["paid"], "上海市浦东新区张杨路100号1幢101室")
    with pytest.raises(OrderStateChanged):
        await repo.change_address(ORDERS["transit"], "上海市浦东新区张杨路100号1幢101室")
    refund = await repo.cancel_order(ORDERS["paid"])
    assert refund.state == "退款中" and refund.channel == "微信支付"
    with pytest.raises(OrderStateChanged):
        await repo.cancel_order(ORDERS["paid"])
    fresh = await repo.get_order(ORDERS["fresh"])
    request = await repo.create_request(order_no=ORDERS["fresh"], order_item_id=fresh.items[0].id,
                                        kind="退货", reason="不喜欢", quality_issue=False, shipping_paid_by="买家")
    assert request.rma_no.startswith("RMA")
    assert (await repo.open_request(ORDERS["fresh"])).rma_no == request.rma_no
    hoodie = fresh.items[0].product_id
    assert await repo.variant_stock(hoodie, "L", "灰色") == 8
    assert await repo.variant_stock(hoodie, "XL", "灰色") == 0
    await dispose_engines()


async def test_repository_on_sqlite(tmp_path):
    await exercise_repository(f"sqlite:///{tmp_path / 'shop.db'}")


@pytest.mark.postgres
async def test_repository_on_postgresql(postgres_url):
    await exercise_repository(postgres_url)


@pytest.mark.postgres
async def test_demo_shop_loads_on_postgresql(postgres_url):
    counts = await load_dataset(generate(seed=7, customers=50, orders=200), postgres_url, replace=True)
    assert counts["orders"] == 200
    repo = ShopRepository(postgres_url)
    assert await repo.count_orders() == 200
    await dispose_engines()


def test_demo_is_deterministic_and_covers_every_state():
    import datetime as dt
    now = dt.datetime(2024, 11, 11, 12)
    first, second = generate(seed=1, now=now), generate(seed=1, now=now)
    assert first == second
    assert len(first["orders"]) == 2000 and len(first["customers"]) == 300 and len(first["products"]) >= 60
    assert len({p["category"] for p in first["products"]}) >= 8
    assert all(p["usage_guide"] for p in first["products"])
    states = {o["status"] for o in first["orders"]}
    assert states == {"待付款", "待发货", "已发货", "运输中", "派送中", "已签收", "已完成", "已取消", "退款中", "已退款"}
    requests = {r["state"] for o in first["orders"] for r in o.get("requests", [])}
    assert requests == {"待审核", "待寄回", "已寄回", "已完成", "已拒绝", "已撤销"}
    refunds = {r["state"] for o in first["orders"] for r in o.get("refunds", [])}
    assert {"退款中", "已退款"} <= refunds
    delayed = [o for o in first["orders"] if o["status"] == "运输中"
               and now - dt.datetime.fromisoformat(o["shipment"]["events"][-1]["time"]) >= dt.timedelta(hours=48)]
    assert len(delayed) >= 10
    assert all(16 <= len(o["order_no"]) <= 19 for o in first["orders"])
    assert all(len(c["phone"]) == 11 for c in first["customers"])


async def test_import_names_bad_record_and_field_and_writes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    data = shopdata.build()
    bad = copy.deepcopy(data)
    bad["orders"][3]["status"] = "已发出"
    bad["orders"][5]["items"][0]["product"] = "不存在的商品"
    bad["customers"][1]["phone"] = "12345"
    with pytest.raises(ShopDataError) as error:
        await load_dataset(bad, url)
    problems = "\n".join(error.value.problems)
    assert f"orders[3] (order_no {ORDERS['transit']}).status: '已发出' is not one of" in problems
    assert f"orders[5] (order_no {ORDERS['delivering']}).items[0].product: no product named '不存在的商品'" in problems
    assert "customers[1] (id C2).phone: '12345' has the wrong format" in problems
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = conn.execute(text("select name from sqlite_master where type='table'")).fetchall()
        assert not tables or conn.execute(text("select count(*) from orders")).scalar() == 0
    await load_dataset(data, url)
    with pytest.raises(ShopNotEmpty):
        await load_dataset(data, url)
    await dispose_engines()


def test_import_cli_reports_errors_and_demo_cli_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    data = shopdata.build()
    data["orders"][0]["order_no"] = "12AB"
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "actions.importer", str(path), "--db-url", url],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "orders[0].order_no: '12AB' has the wrong format" in result.stderr
    env = {"KEFU_SHOP_DB_URL": url, "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-m", "actions.demo"], capture_output=True, text=True, env=env)
    assert first.returncode == 0 and "2000 orders" in first.stdout
    again = subprocess.run([sys.executable, "-m", "actions.demo"], capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "already has data" in again.stdout
