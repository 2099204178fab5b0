"""Whole conversations over Rasa's REST channel against the seeded demo shop.

Needs the `rasa_stack` fixture (tests/conftest.py): a trained model, the Rasa
server and the action server with KEFU_SHOP_DB_URL on a freshly seeded demo
shop. The orders used are picked from that database by state.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import List, Optional

import pytest
import requests
from sqlalchemy import create_engine, text

from actions.shop.models import shop_now

pytestmark = pytest.mark.slow


class Chat:
    """One shopper talking to the bot over /webhooks/rest/webhook."""

    def __init__(self, stack) -> None:
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = f"e2e-{uuid.uuid4().hex[:10]}"

    def say(self, message: str) -> str:
        response = requests.post(self.url, json={"sender": self.sender, "message": message}, timeout=60)
        response.raise_for_status()
        return "\n".join(part.get("text", "") for part in response.json())


def pick(stack, sql: str, **params) -> dict:
    """First demo order matching ``sql`` (columns order_no, phone, ...)."""
    engine = create_engine(stack.shop_db_url)
    with engine.connect() as conn:
        row = conn.execute(text(sql), params).mappings().first()
    assert row is not None, f"demo shop has no order for: {sql}"
    return dict(row)


BASE = """
select o.order_no, c.phone, o.status, o.delivered_at, s.tracking_no,
       (select count(*) from order_items i where i.order_id = o.id) as items
from orders o join customers c on c.id = o.customer_id
left join shipments s on s.order_id = o.id
"""


def verify(chat: Chat, first: str, order: dict) -> str:
    """Ask, then give order number and phone tail in separate messages."""
    asked = chat.say(first)
    assert "订单号" in asked, asked
    asked = chat.say(order["order_no"])
    assert "后4位" in asked or "尾号" in asked, asked
    return chat.say(f"尾号{order['phone'][-4:]}")


def test_verify_then_status_then_tracking(rasa_stack):
    now = shop_now()
    order = pick(rasa_stack, BASE + """
        where o.status = '运输中' and (select max(occurred_at) from tracking_events e
               where e.shipment_id = s.id) > :recent limit 1""",
                 recent=now - dt.timedelta(hours=20))
    chat = Chat(rasa_stack)
    answer = verify(chat, "帮我查下订单状态", order)
    assert order["order_no"] in answer and "运输途中" in answer and order["tracking_no"] in answer
    answer = chat.say("快递到哪了")
    assert order["tracking_no"] in answer and "最新物流" in answer


def test_wrong_phone_three_times_offers_a_human_and_stops_lookups(rasa_stack):
    order = pick(rasa_stack, BASE + " where o.status = '运输中' limit 1")
    wrong = "0000" if not order["phone"].endswith("0000") else "1111"
    chat = Chat(rasa_stack)
    chat.say("查一下物流")
    for _ in range(2):
        answer = chat.say(f"订单号{order['order_no']} 尾号{wrong}")
        assert "对不上" in answer and order["tracking_no"] not in answer
    answer = chat.say(f"订单号{order['order_no']} 尾号{wrong}")
    assert "人工" in answer and order["tracking_no"] not in answer
    answer = chat.say(f"快递到哪了 订单号{order['order_no']} 尾号{order['phone'][-4:]}")
    assert order["tracking_no"] not in answer


def test_return_refused_after_seven_days(rasa_stack):
    order = pick(rasa_stack, BASE + """
        join order_items i on i.order_id = o.id join products p on p.id = i.product_id
        where o.status = '已完成' and p.returnable = 1 and p.returnable_if_unopened = 0
          and (select count(*) from order_items x where x.order_id = o.id) = 1
          and not exists (select 1 from service_requests r where r.order_id = o.id) limit 1""")
    chat = Chat(rasa_stack)
    answer = verify(chat, "我要退货", order)
    assert "原因" in answer, answer
    answer = chat.say("不喜欢了")
    assert "超过了7天" in answer and "RMA" not in answer


def test_return_accepted_within_seven_days(rasa_stack):
    order = pick(rasa_stack, BASE + """
        join order_items i on i.order_id = o.id join products p on p.id = i.product_id
        where o.status = '已签收' and o.delivered_at > :since and p.returnable = 1
          and p.returnable_if_unopened = 0
          and (select count(*) from order_items x where x.order_id = o.id) = 1
          and not exists (select 1 from service_requests r where r.order_id = o.id) limit 1""",
                 since=shop_now() - dt.timedelta(days=5))
    chat = Chat(rasa_stack)
    answer = verify(chat, "我要退货", order)
    assert "原因" in answer, answer
    answer = chat.say("尺码不合适")
    assert "确认提交退货申请" in answer, answer
    answer = chat.say("是的")
    assert "RMA" in answer and "文一西路1888号" in answer


def test_exchange_out_of_stock(rasa_stack):
    order = pick(rasa_stack, BASE.replace("as items", "as items, v.size as want_size, v.colour as want_colour") + """
        join order_items i on i.order_id = o.id join products p on p.id = i.product_id
        join product_variants v on v.product_id = p.id and v.stock = 0
             and (v.size != i.size or v.colour != i.colour)
        where o.status = '已签收' and o.delivered_at > :since and p.returnable = 1
          and (select count(*) from order_items x where x.order_id = o.id) = 1
          and not exists (select 1 from service_requests r where r.order_id = o.id) limit 1""",
                 since=shop_now() - dt.timedelta(days=5))
    chat = Chat(rasa_stack)
    answer = verify(chat, "我想换货", order)
    assert "尺码或颜色" in answer, answer
    answer = chat.say(f"换{order['want_colour']} {order['want_size']}".strip())
    assert "缺货" in answer


def test_cancel_before_shipment(rasa_stack):
    order = pick(rasa_stack, BASE + " where o.status = '待发货' limit 1")
    chat = Chat(rasa_stack)
    answer = verify(chat, "取消订单", order)
    assert "确认取消订单" in answer, answer
    answer = chat.say("是的")
    assert "已经取消" in answer and "退款" in answer
    status = pick(rasa_stack, "select status from orders where order_no = :n", n=order["order_no"])
    assert status["status"] == "退款中"


def test_cancel_after_shipment_explains_the_return_path(rasa_stack):
    order = pick(rasa_stack, BASE + " where o.status = '运输中' limit 1 offset 3")
    chat = Chat(rasa_stack)
    answer = verify(chat, "帮我取消订单", order)
    assert "不能直接取消" in answer and "拒收" in answer


def test_usage_question(rasa_stack):
    chat = Chat(rasa_stack)
    answer = chat.say("电动牙刷怎么充电")
    assert "电动牙刷" in answer and "充电座" in answer
