"""The whole way through, over HTTP and WebSocket, with the fake Rasa running the real action."""
from __future__ import annotations

from handoff import dispatcher

from .conftest import auth, eventually, is_message, login, new_conversation, open_shopper_socket, receive_until


async def test_handoff_offer_accept_relay_resolve_rating(service, fake_rasa):
    client = service.client
    conv, token, shopper = await open_shopper_socket(client)
    await receive_until(shopper, lambda f: f["type"] == "state" and f["state"] == "bot")

    await shopper.send_json({"type": "message", "text": "你好"})
    await receive_until(shopper, is_message("bot", "小美"))

    # An agent with the right skill is online in the console.
    agent = await login(client, "logi1")
    console = await client.ws_connect(f"/ws/agent?token={agent['token']}")
    await receive_until(console, lambda f: f["type"] == "queue")

    await shopper.send_json({"type": "message", "text": "快递到哪了，订单 3829104857263541"})
    await receive_until(shopper, is_message("bot", "杭州转运中心"))
    await shopper.send_json({"type": "message", "text": "转人工"})
    frames = await receive_until(shopper, lambda f: f["type"] == "state" and f["state"] == "queued")
    if not any(is_message("bot", "转接人工客服")(f) for f in frames):  # the bot's note may come first
        frames += await receive_until(shopper, is_message("bot", "转接人工客服"))
    state = next(f for f in frames if f["type"] == "state" and f["state"] == "queued")
    assert state["queue_position"] == 1

    queue = await (await client.get("/api/queue", headers=auth(agent))).json()
    [ticket] = queue["queue"]
    assert ticket["conversation_id"] == conv and ticket["reason"] == "explicit_request"
    assert ticket["skill"] == "logistics" and ticket["level"] in ("urgent", "high", "normal", "low")
    assert ticket["summary"]["slots"]["order_id"] == "3829104857263541"
    assert "track_shipment" in ticket["summary"]["intents"]
    # The action looked the order up: amount and the customer's VIP tier raise the priority.
    assert ticket["order"] == {"id": "3829104857263541", "amount": 1299.0}
    assert ticket["customer"]["vip_tier"] == "金卡会员"
    assert ticket["priority"] == 10 + 15 + 10 + round(15 * 1299 / 2000, 1)

    # The dispatcher offers it to the online agent, who accepts.
    await dispatcher.tick(service.ctx)
    offer = (await receive_until(console, lambda f: f["type"] == "agent_event" and f["event"]["type"] == "offer"))[-1]
    ticket_id = offer["event"]["ticket"]["ticket_id"]
    resp = await client.post(f"/api/tickets/{ticket_id}/accept", headers=auth(agent))
    assert resp.status == 200, await resp.text()
    await receive_until(shopper, is_message("system", "物流小李"))

    # The agent sees the whole transcript, the bot's part included.
    detail = await (await client.get(f"/api/conversations/{conv}", headers=auth(agent))).json()
    texts = [m["text"] for m in detail["messages"]]
    assert "你好" in texts and any("杭州转运中心" in t for t in texts)

    # Relay both ways.
    await console.send_json({"type": "watch", "conversation_id": conv, "after": detail["messages"][-1]["id"]})
    resp = await client.post(f"/api/conversations/{conv}/messages", headers=auth(agent), json={"text": "亲，我帮您查一下"})
    assert resp.status == 201
    got = (await receive_until(shopper, is_message("agent", "我帮您查一下")))[-1]
    assert got["message"]["agent_name"] == "物流小李"
    await shopper.send_json({"type": "message", "text": "好的谢谢<b>急</b>"})
    await receive_until(console, is_message("shopper", "好的谢谢<b>急</b>"))
    assert ("", "好的谢谢<b>急</b>") not in fake_rasa.received and all(t != "好的谢谢<b>急</b>" for _, t in fake_rasa.received)

    # Resolve: the bot is resumed and asks for a rating.
    resp = await client.post(f"/api/conversations/{conv}/resolve", headers=auth(agent))
    assert resp.status == 200
    rating = (await receive_until(shopper, lambda f: f["type"] == "message" and "rating_request" in f["message"].get("extra", {})))[-1]
    assert conv in fake_rasa.resumed
    await shopper.send_json({"type": "rating", "ticket_id": rating["message"]["extra"]["rating_request"]["ticket_id"], "score": 5})
    await receive_until(shopper, is_message("system", "5星"))
    stats = await (await client.get("/api/stats", headers=auth(agent))).json()
    assert stats["rating"] == {"average": 5.0, "count": 1}
    assert stats["ratings_by_agent"] == [{"agent": "物流小李", "average": 5.0, "count": 1}]

    # The bot serves again.
    await shopper.send_json({"type": "message", "text": "你好"})
    await receive_until(shopper, is_message("bot", "小美"))
    await shopper.close()
    await console.close()


async def test_offer_not_accepted_goes_to_next_agent(service):
    client = service.client
    a = await login(client, "logi1")
    b = await login(client, "logi2")
    conv, token = await new_conversation(client)
    resp = await client.post("/api/shopper/messages", json={"text": "快递丢了"},
                             headers={"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"})
    assert resp.status == 201
    await dispatcher.tick(service.ctx)
    mine_a = await (await client.get("/api/agent/tickets", headers=auth(a))).json()
    mine_b = await (await client.get("/api/agent/tickets", headers=auth(b))).json()
    first, other = (a, b) if mine_a["tickets"] else (b, a)
    assert len((mine_a["tickets"] or mine_b["tickets"])) == 1
    ticket_id = (mine_a["tickets"] or mine_b["tickets"])[0]["ticket_id"]

    service.clock.advance(service.ctx.settings.routing["offer_timeout_seconds"] + 1)
    for headers in (a, b):  # presence stays fresh while the console is open
        await client.post("/api/agent/status", headers=auth(headers), json={"status": "online"})
    await dispatcher.tick(service.ctx)
    gone = await client.post(f"/api/tickets/{ticket_id}/accept", headers=auth(first))
    assert gone.status == 409 and (await gone.json())["error"] == "offer_gone"
    taken = await client.post(f"/api/tickets/{ticket_id}/accept", headers=auth(other))
    assert taken.status == 200


async def test_silent_agent_loses_conversation(service):
    client = service.client
    agent = await login(client, "ret1")
    conv, token, shopper = await open_shopper_socket(client)
    await shopper.send_json({"type": "message", "text": "我要投诉"})
    await receive_until(shopper, is_message("bot"))
    claimed = await (await client.post("/api/agent/claim", headers=auth(agent))).json()
    assert claimed["ticket"]["conversation_id"] == conv and claimed["ticket"]["reason"] == "complaint"
    await shopper.send_json({"type": "message", "text": "人呢？"})
    await receive_until(shopper, lambda f: f["type"] == "message" and f["message"]["text"] == "人呢？")

    service.clock.advance(service.ctx.settings.routing["silent_agent_seconds"] + 1)
    await dispatcher.tick(service.ctx)
    await receive_until(shopper, is_message("system", "安排其他客服"))
    queue = (await (await client.get("/api/queue", headers=auth(agent))).json())["queue"]
    assert [t["conversation_id"] for t in queue] == [conv]
    resp = await client.post(f"/api/conversations/{conv}/messages", headers=auth(agent), json={"text": "在的"})
    assert resp.status == 403
    await shopper.close()


async def test_offline_message_answered_later(service):
    client = service.client
    conv, token, shopper = await open_shopper_socket(client)
    await shopper.send_json({"type": "message", "text": "转人工"})
    frames = await receive_until(shopper, is_message("bot", "不在线"))
    await shopper.send_json({"type": "message", "text": "我的杯子收到就碎了，请回电"})
    last = (await receive_until(shopper, is_message("shopper", "杯子")))[-1]["message"]["id"]
    await shopper.close()  # the shopper leaves

    agent = await login(client, "logi1")
    claimed = await (await client.post("/api/agent/claim", headers=auth(agent))).json()
    assert claimed["ticket"]["conversation_id"] == conv
    detail = await (await client.get(f"/api/conversations/{conv}", headers=auth(agent))).json()
    assert any("杯子收到就碎了" in m["text"] for m in detail["messages"])
    await client.post(f"/api/conversations/{conv}/messages", headers=auth(agent), json={"text": "亲，马上为您补发"})

    # Coming back, the shopper resumes after the last message they saw.
    back = await client.ws_connect(f"/ws/shopper?conversation_id={conv}&token={token}&after={last}")
    frames = await receive_until(back, is_message("agent", "补发"))
    ids = [f["message"]["id"] for f in frames if f["type"] == "message"]
    assert ids and min(ids) > last
    await back.close()


async def test_transfer_to_agent_and_to_skill(service):
    client = service.client
    a = await login(client, "logi1")
    b = await login(client, "logi2")
    c = await login(client, "ret1")
    conv, token = await new_conversation(client)
    await client.post("/api/shopper/messages", json={"text": "转人工"},
                      headers={"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"})
    assert (await (await client.post("/api/agent/claim", headers=auth(a))).json())["ticket"]
    resp = await client.post(f"/api/conversations/{conv}/transfer", headers=auth(a), json={"to_agent_id": b["id"]})
    assert resp.status == 200 and (await resp.json())["agent_id"] == b["id"]
    assert (await client.post(f"/api/conversations/{conv}/messages", headers=auth(a), json={"text": "x"})).status == 403
    assert (await client.post(f"/api/conversations/{conv}/messages", headers=auth(b), json={"text": "您好"})).status == 201

    resp = await client.post(f"/api/conversations/{conv}/transfer", headers=auth(b), json={"to_skill": "returns"})
    assert resp.status == 200 and (await resp.json())["status"] == "queued"
    # logi1 has no returns skill: nothing to pull; ret1 gets it.
    assert (await (await client.post("/api/agent/claim", headers=auth(a))).json())["ticket"] is None
    got = (await (await client.post("/api/agent/claim", headers=auth(c))).json())["ticket"]
    assert got["conversation_id"] == conv and got["skill"] == "returns" and got["transfers"] == 2
    messages = (await (await client.get(f"/api/shopper/messages?conversation_id={conv}&token={token}")).json())["messages"]
    assert any("转接给客服「物流小王」" in m["text"] for m in messages)
    assert any("退换货专员" in m["text"] for m in messages)


async def test_hand_back_unresolved_resumes_bot_without_rating(service, fake_rasa):
    client = service.client
    agent = await login(client, "logi1")
    conv, token = await new_conversation(client)
    hdrs = {"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"}
    await client.post("/api/shopper/messages", json={"text": "转人工"}, headers=hdrs)
    await client.post("/api/agent/claim", headers=auth(agent))
    resp = await client.post(f"/api/conversations/{conv}/handback", headers=auth(agent))
    assert resp.status == 200
    assert conv in fake_rasa.resumed
    messages = (await (await client.get(f"/api/shopper/messages?conversation_id={conv}&token={token}")).json())["messages"]
    assert not any("rating_request" in m.get("extra", {}) for m in messages)
    await client.post("/api/shopper/messages", json={"text": "你好"}, headers=hdrs)
    assert fake_rasa.received[-1] == (conv, "你好")


async def test_capacity_limits_pulls(service):
    client = service.client
    agent = await login(client, "logi1")  # capacity 2
    for _ in range(3):
        conv, token = await new_conversation(client)
        await client.post("/api/shopper/messages", json={"text": "转人工"},
                          headers={"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"})
    for _ in range(2):
        assert (await (await client.post("/api/agent/claim", headers=auth(agent))).json())["ticket"]
    resp = await client.post("/api/agent/claim", headers=auth(agent))
    assert resp.status == 409 and (await resp.json())["error"] == "at_capacity"


async def test_bot_down_shopper_told_and_can_reach_a_human(service, fake_rasa):
    client = service.client
    fake_rasa.up = False
    conv, token, shopper = await open_shopper_socket(client)
    await shopper.send_json({"type": "message", "text": "我的订单怎么还没发货"})
    frame = (await receive_until(shopper, is_message("system", "开小差")))[-1]
    assert frame["message"]["extra"]["buttons"][0]["action"] == "request_human"
    await shopper.send_json({"type": "request_human"})
    await receive_until(shopper, lambda f: f["type"] == "state" and f["state"] == "queued")
    agent = await login(client, "logi1")
    queue = (await (await client.get("/api/queue", headers=auth(agent))).json())["queue"]
    assert queue[0]["reason"] == "bot_unavailable"
    assert queue[0]["summary"]["last_text"] == "我的订单怎么还没发货"
    await shopper.close()
