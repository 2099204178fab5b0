"""Flooding (per conversation, per address), forged or expired agent tokens, a shopper using another's id."""
from __future__ import annotations

from handoff.ratelimit import TokenBucket

from tests.handoff.conftest import BOT_SECRET, auth, is_message, login, new_conversation, receive_until

# Tests talk from 127.0.0.1, which the shipped settings exempt from address limits: switch that off.
STRICT = {"rate_limits": {"exempt_addresses": [], "trusted_proxies": []}}


def hdrs(conv: str, token: str) -> dict[str, str]:
    return {"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"}


def test_token_bucket_allows_a_burst_then_the_average_rate():
    now = [0.0]
    bucket = TokenBucket(burst=3, per_minute=60, clock=lambda: now[0], max_keys=2)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == 1.0  # one token per second
    now[0] += 1.0
    assert bucket.take("a") == 0.0
    assert bucket.take("b") == 0.0 and bucket.take("c") == 0.0  # at most 2 keys kept: "a" forgotten
    assert len(bucket._buckets) == 2


async def test_flooding_one_conversation_gets_429_and_a_polite_note_then_recovers(service_factory, fake_rasa):
    service = await service_factory(**STRICT)
    client = service.client
    conv, token = await new_conversation(client)
    other, other_token = await new_conversation(client)
    burst = service.ctx.settings.policy["rate_limits"]["conversation_messages"]["burst"]
    statuses = []
    for i in range(burst + 5):
        resp = await client.post("/api/shopper/messages", json={"text": f"在吗{i}"}, headers=hdrs(conv, token))
        statuses.append(resp.status)
    assert statuses == [201] * burst + [429] * 5
    body = await resp.json()
    assert body["error"] == "rate_limited" and "太快" in body["message"] and body["retry_after_seconds"] >= 1
    assert int(resp.headers["Retry-After"]) == body["retry_after_seconds"]
    assert len(fake_rasa.received) == burst  # refused messages never reached the bot (nor the database)
    history = (await (await client.get(f"/api/shopper/messages?conversation_id={conv}&token={token}")).json())["messages"]
    assert sum(m["sender"] == "shopper" for m in history) == burst

    # Other shoppers are not affected; the flooder's WebSocket gets a Chinese note it can show.
    assert (await client.post("/api/shopper/messages", json={"text": "你好"}, headers=hdrs(other, other_token))).status == 201
    ws = await client.ws_connect(f"/ws/shopper?conversation_id={conv}&token={token}")
    await ws.send_json({"type": "message", "text": "还在吗"})
    note = (await receive_until(ws, lambda f: f["type"] == "error"))[-1]
    assert note["error"] == "rate_limited" and note["message"].startswith("亲，您发消息太快啦")

    # After waiting as told, the shopper carries on.
    service.clock.advance(body["retry_after_seconds"])
    await ws.send_json({"type": "message", "text": "还在吗"})
    await receive_until(ws, is_message("shopper", "还在吗"))
    await receive_until(ws, is_message("bot"))
    await ws.close()


async def test_flooding_from_one_address_is_limited_across_conversations(service_factory):
    service = await service_factory(rate_limits={
        **STRICT["rate_limits"], "address_new_conversations": {"burst": 5, "per_minute": 6},
        "address_logins": {"burst": 3, "per_minute": 3}})
    client = service.client
    statuses = [(await client.post("/api/shopper/conversations")).status for _ in range(8)]
    assert statuses == [201] * 5 + [429] * 3
    # Password guessing from one address stops quickly, even with the right password.
    for _ in range(3):
        resp = await client.post("/api/agent/login", json={"username": "logi1", "password": "guess"})
        assert resp.status == 401
    resp = await client.post("/api/agent/login", json={"username": "logi1", "password": "pw-logi1"})
    assert resp.status == 429 and (await resp.json())["error"] == "rate_limited"
    service.clock.advance(20)
    resp = await client.post("/api/agent/login", json={"username": "logi1", "password": "pw-logi1"})
    assert resp.status == 200


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(service_factory):
    # A direct client cannot pose as many addresses with X-Forwarded-For ...
    direct = await service_factory(rate_limits={**STRICT["rate_limits"],
                                                "address_new_conversations": {"burst": 2, "per_minute": 1}})
    statuses = [(await direct.client.post("/api/shopper/conversations",
                                          headers={"X-Forwarded-For": f"10.0.0.{i}"})).status for i in range(4)]
    assert statuses == [201, 201, 429, 429]
    await direct.client.close()
    # ... while behind our own proxy each shopper's address is limited on its own.
    proxied = await service_factory(rate_limits={"exempt_addresses": [], "trusted_proxies": ["127.0.0.1"],
                                                 "address_new_conversations": {"burst": 2, "per_minute": 1}})
    for address in ("10.0.0.1", "10.0.0.2"):
        statuses = [(await proxied.client.post("/api/shopper/conversations",
                                               headers={"X-Forwarded-For": f"1.2.3.4, {address}"})).status
                    for _ in range(3)]
        assert statuses == [201, 201, 429], address


async def test_forged_and_expired_agent_tokens_are_refused(service):
    client = service.client
    agent = await login(client, "logi1")
    forged = [agent["token"][:-1] + ("A" if agent["token"][-1] != "A" else "B"),  # one character off
              agent["token"] + "x", "Bearer", "null", "' OR '1'='1", "ey" + "A" * 4000, "令牌令牌"]
    for token in forged:
        for method, path in [("GET", "/api/queue"), ("POST", "/api/agent/claim"), ("GET", "/api/agent/me")]:
            resp = await client.request(method, path, headers={"Authorization": f"Bearer {token}"})
            assert resp.status == 401, (token[:20], path)
            assert (await resp.json())["error"] == "unauthorized"
        assert (await client.get("/ws/agent", params={"token": token})).status == 401
    for header in ["", "Basic bG9naTE6cHctbG9naTE=", agent["token"], f"bearer  {agent['token']}x"]:
        resp = await client.get("/api/queue", headers={"Authorization": header})
        assert resp.status == 401, header
    # The bot secret is not an agent token, and an agent token is not the bot secret.
    assert (await client.get("/api/queue", headers={"Authorization": f"Bearer {BOT_SECRET}"})).status == 401
    resp = await client.post("/api/bot/handoff", headers=auth(agent), json={"conversation_id": "x1", "reason": "complaint"})
    assert resp.status == 401

    # Logged out: the old token is dead.
    assert (await client.post("/api/agent/logout", headers=auth(agent))).status == 200
    assert (await client.get("/api/queue", headers=auth(agent))).status == 401
    # Expired: a fresh login stops working after session_hours, on HTTP and WebSocket alike.
    fresh = await login(client, "logi2")
    service.clock.advance(service.ctx.settings.limits["session_hours"] * 3600 + 1)
    assert (await client.get("/api/queue", headers=auth(fresh))).status == 401
    assert (await client.get("/ws/agent", params={"token": fresh["token"]})).status == 401


async def test_a_shopper_cannot_use_another_conversation_id(service):
    client = service.client
    mine, my_token = await new_conversation(client)
    theirs, their_token = await new_conversation(client)
    await client.post("/api/shopper/messages", json={"text": "我的订单3829104857263541 手机13800006621"},
                      headers=hdrs(theirs, their_token))
    # Their id with my token: on every shopper route, HTTP and WebSocket.
    attempts = [
        client.get("/api/shopper/messages", headers=hdrs(theirs, my_token)),
        client.get(f"/api/shopper/messages?conversation_id={theirs}&token={my_token}"),
        client.post("/api/shopper/messages", json={"text": "hi"}, headers=hdrs(theirs, my_token)),
        client.post("/api/shopper/rating", json={"ticket_id": 1, "score": 1}, headers=hdrs(theirs, my_token)),
        client.get(f"/ws/shopper?conversation_id={theirs}&token={my_token}"),
        client.get(f"/ws/shopper?conversation_id={theirs}&token="),
        client.get(f"/ws/shopper?conversation_id={theirs}"),
    ]
    for attempt in attempts:
        resp = await attempt
        assert resp.status == 401
        body = await resp.text()
        assert "3829104857263541" not in body and "13800006621" not in body  # nothing leaks in the refusal
    # Agent routes are closed to shopper tokens.
    for token in (my_token, their_token):
        resp = await client.get(f"/api/conversations/{theirs}", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 401
    # A ticket of their conversation cannot be rated from mine.
    agent = await login(client, "logi1")
    await client.post("/api/shopper/messages", json={"text": "转人工"}, headers=hdrs(theirs, their_token))
    ticket = (await (await client.post("/api/agent/claim", headers=auth(agent))).json())["ticket"]
    await client.post(f"/api/conversations/{theirs}/resolve", headers=auth(agent))
    resp = await client.post("/api/shopper/rating", json={"ticket_id": ticket["ticket_id"], "score": 1},
                             headers=hdrs(mine, my_token))
    assert resp.status == 404 and (await resp.json())["error"] == "no_such_ticket"
    mine_history = (await (await client.get("/api/shopper/messages", headers=hdrs(mine, my_token))).json())["messages"]
    assert mine_history == []
