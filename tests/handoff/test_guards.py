"""Authentication, isolation between shoppers, and bad input: clear refusals, nothing breaks."""
from __future__ import annotations

import json

from .conftest import BOT_SECRET, auth, is_message, login, new_conversation, open_shopper_socket, receive_until


async def test_agent_endpoints_refuse_unauthenticated_calls(service):
    client = service.client
    for method, path in [("GET", "/api/queue"), ("GET", "/api/agent/tickets"), ("POST", "/api/agent/claim"),
                         ("GET", "/api/stats"), ("GET", "/api/quick-replies"), ("GET", "/api/agents"),
                         ("POST", "/api/conversations/abc/messages"), ("POST", "/api/tickets/1/accept")]:
        resp = await client.request(method, path, headers={"Authorization": "Bearer not-a-token"})
        assert resp.status == 401, path
        assert (await resp.json())["error"] == "unauthorized"
    resp = await client.get("/api/queue")
    assert resp.status == 401
    resp = await client.get("/ws/agent?token=nope")
    assert resp.status == 401


async def test_login_rejects_wrong_password_and_sessions_expire(service):
    client = service.client
    resp = await client.post("/api/agent/login", json={"username": "logi1", "password": "wrong"})
    assert resp.status == 401 and (await resp.json())["error"] == "bad_credentials"
    resp = await client.post("/api/agent/login", json={"username": "nobody", "password": "x"})
    assert resp.status == 401
    agent = await login(client, "logi1")
    assert (await client.get("/api/queue", headers=auth(agent))).status == 200
    service.clock.advance(service.ctx.settings.limits["session_hours"] * 3600 + 1)
    assert (await client.get("/api/queue", headers=auth(agent))).status == 401


async def test_bot_endpoint_needs_the_secret(service):
    client = service.client
    body = {"conversation_id": "rest-user-1", "reason": "complaint", "topic": "complaints"}
    assert (await client.post("/api/bot/handoff", json=body)).status == 401
    assert (await client.post("/api/bot/handoff", json=body, headers={"Authorization": "Bearer wrong"})).status == 401
    resp = await client.post("/api/bot/handoff", json=body, headers={"Authorization": f"Bearer {BOT_SECRET}"})
    assert resp.status == 201
    again = await client.post("/api/bot/handoff", json=body, headers={"Authorization": f"Bearer {BOT_SECRET}"})
    assert again.status == 200 and (await again.json())["created"] is False  # one open ticket per conversation


async def test_rest_channel_handoff_keeps_the_bot_transcript(service):
    """A conversation driven straight through Rasa's REST channel still gets a ticket with its history."""
    client = service.client
    body = {
        "conversation_id": "rest-user-2", "reason": "lost_parcel", "topic": "logistics",
        "emotion": {"score": 0.9, "label": "anger", "cues": ["！！！", "投诉"]},
        "customer": {"id": "42", "vip_tier": "钻石会员"}, "order": {"id": "3829104857263541", "amount": 2600},
        "summary": {"intents": ["track_shipment", "report_lost_package"], "slots": {"order_id": "3829104857263541"}},
        "transcript": [{"sender": "user", "text": "快递显示签收了我没收到", "timestamp": 1},
                       {"sender": "bot", "text": "亲，帮您查一下", "timestamp": 2}],
    }
    resp = await client.post("/api/bot/handoff", json=body, headers={"Authorization": f"Bearer {BOT_SECRET}"})
    answer = await resp.json()
    # 10 base + 35 lost parcel + 20*0.9 emotion + 20 diamond + 15 full order value = 98
    assert answer["priority"] == 98.0 and answer["level"] == "urgent"
    agent = await login(client, "logi1")
    detail = await (await client.get("/api/conversations/rest-user-2", headers=auth(agent))).json()
    assert [m["text"] for m in detail["messages"]] == ["快递显示签收了我没收到", "亲，帮您查一下"]
    assert detail["tickets"][0]["emotion"] == {"score": 0.9, "label": "anger", "cues": ["！！！", "投诉"]}


async def test_shopper_reaches_only_their_own_conversation(service):
    client = service.client
    conv_a, token_a = await new_conversation(client)
    conv_b, token_b = await new_conversation(client)
    resp = await client.get(f"/api/shopper/messages?conversation_id={conv_a}&token={token_b}")
    assert resp.status == 401
    resp = await client.get(f"/ws/shopper?conversation_id={conv_a}&token={token_b}")
    assert resp.status == 401
    resp = await client.post("/api/shopper/messages", json={"text": "hi"},
                             headers={"X-Conversation-Id": conv_b, "Authorization": f"Bearer {token_a}"})
    assert resp.status == 401
    # An agent's bearer token is not a shopper token either.
    agent = await login(client, "logi1")
    resp = await client.get(f"/api/shopper/messages?conversation_id={conv_a}&token={agent['token']}")
    assert resp.status == 401


async def test_malformed_and_oversized_input_get_clear_errors(service):
    client = service.client
    conv, token = await new_conversation(client)
    hdrs = {"X-Conversation-Id": conv, "Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    resp = await client.post("/api/shopper/messages", data="{not json", headers=hdrs)
    assert resp.status == 400 and (await resp.json())["error"] == "malformed_json"
    resp = await client.post("/api/shopper/messages", data="[1,2]", headers=hdrs)
    assert resp.status == 400 and (await resp.json())["error"] == "malformed_json"
    resp = await client.post("/api/shopper/messages", json={"text": "   "}, headers=hdrs)
    assert resp.status == 400 and (await resp.json())["error"] == "empty_text"
    resp = await client.post("/api/shopper/messages", json={"text": "长" * 1001}, headers=hdrs)
    body = await resp.json()
    assert resp.status == 413 and body["error"] == "text_too_long" and "1000" in body["message"]
    resp = await client.post("/api/shopper/messages", data=json.dumps({"text": "x" * 70000}), headers=hdrs)
    assert resp.status == 413 and (await resp.json())["error"] == "body_too_large"
    bot = {"Authorization": f"Bearer {BOT_SECRET}"}
    for bad in [{"conversation_id": "a b", "reason": "complaint"},
                {"conversation_id": "x1", "reason": "<script>"},
                {"conversation_id": "x1", "reason": "complaint", "topic": "weather"},
                {"conversation_id": "x1", "reason": "complaint", "emotion": {"score": 3}},
                {"conversation_id": "x1", "reason": "complaint", "order": {"amount": "lots"}}]:
        resp = await client.post("/api/bot/handoff", json=bad, headers=bot)
        assert resp.status == 400, bad
        assert (await resp.json())["message"]
    # Nothing was stored from the refused requests.
    messages = (await (await client.get(f"/api/shopper/messages?conversation_id={conv}&token={token}")).json())["messages"]
    assert messages == []


async def test_bad_websocket_frames_are_answered_and_the_socket_keeps_working(service):
    client = service.client
    conv, token, ws = await open_shopper_socket(client)
    await ws.send_str("this is not json")
    frames = await receive_until(ws, lambda f: f["type"] == "error")
    assert frames[-1]["error"] == "malformed_json"
    await ws.send_json({"type": "message", "text": "好" * 1001})
    assert (await receive_until(ws, lambda f: f["type"] == "error"))[-1]["error"] == "text_too_long"
    await ws.send_json({"type": "rating", "ticket_id": 1, "score": 9})
    assert (await receive_until(ws, lambda f: f["type"] == "error"))[-1]["error"] == "bad_rating"
    await ws.send_json({"type": "dance"})
    assert (await receive_until(ws, lambda f: f["type"] == "error"))[-1]["error"] == "unknown_type"
    await ws.send_json({"type": "message", "text": "你好"})
    await receive_until(ws, is_message("bot"))
    await ws.close()


async def test_quick_replies_search_and_edit(service):
    client = service.client
    agent = await login(client, "logi1")
    found = (await (await client.get("/api/quick-replies?q=退货地址", headers=auth(agent))).json())["quick_replies"]
    assert [r["title"] for r in found] == ["退货地址"]
    logistics = (await (await client.get("/api/quick-replies?topic=logistics", headers=auth(agent))).json())["quick_replies"]
    assert {r["topic"] for r in logistics} == {"logistics", "general"}
    reply_id = found[0]["id"]
    resp = await client.put(f"/api/quick-replies/{reply_id}", headers=auth(agent), json={"text": "亲，退货请寄到新仓库地址。"})
    assert resp.status == 200
    again = (await (await client.get("/api/quick-replies?q=新仓库", headers=auth(agent))).json())["quick_replies"]
    assert [r["id"] for r in again] == [reply_id]
    resp = await client.post("/api/quick-replies", headers=auth(agent), json={"topic": "usage", "title": "充电", "text": "亲，充满约需 4 小时。"})
    assert resp.status == 201
    resp = await client.post("/api/quick-replies", headers=auth(agent), json={"topic": "weather", "title": "x", "text": "y"})
    assert resp.status == 400
