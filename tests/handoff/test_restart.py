"""Stop the service mid-conversation, start it again: nothing lost, clients resume."""
from __future__ import annotations

from .conftest import auth, is_message, login, open_shopper_socket, receive_until


async def test_restart_loses_nothing_and_clients_resume(service_factory, tmp_path):
    db = f"sqlite:///{tmp_path / 'restart.db'}"
    first = await service_factory(db_url=db)
    conv, token, shopper = await open_shopper_socket(first.client)
    await shopper.send_json({"type": "message", "text": "转人工"})
    await receive_until(shopper, is_message("bot"))
    agent = await login(first.client, "logi1")
    await first.client.post("/api/agent/claim", headers=auth(agent))
    await first.client.post(f"/api/conversations/{conv}/messages", headers=auth(agent), json={"text": "第一条回复"})
    seen = await receive_until(shopper, is_message("agent", "第一条回复"))
    last_seen = max(f["message"]["id"] for f in seen if f["type"] == "message")
    await shopper.close()
    # While the shopper is away the agent writes again, then the service stops.
    await first.client.post(f"/api/conversations/{conv}/messages", headers=auth(agent), json={"text": "您离开时的回复"})
    before = (await (await first.client.get(f"/api/conversations/{conv}", headers=auth(agent))).json())["messages"]
    await first.client.close()

    second = await service_factory(db_url=db)
    # The agent's login, the assignment and every message survived.
    mine = (await (await second.client.get("/api/agent/tickets", headers=auth(agent))).json())["tickets"]
    assert [t["conversation_id"] for t in mine] == [conv] and mine[0]["status"] == "assigned"
    after = (await (await second.client.get(f"/api/conversations/{conv}", headers=auth(agent))).json())["messages"]
    assert after == before

    # The shopper resumes from the last id they saw: only the missed reply, once.
    back = await second.client.ws_connect(f"/ws/shopper?conversation_id={conv}&token={token}&after={last_seen}")
    frames = await receive_until(back, is_message("agent", "您离开时的回复"))
    got = [f["message"]["id"] for f in frames if f["type"] == "message"]
    assert got == [m["id"] for m in before if m["id"] > last_seen]
    console = await second.client.ws_connect(f"/ws/agent?token={agent['token']}")
    await console.send_json({"type": "watch", "conversation_id": conv, "after": before[-1]["id"]})
    await back.send_json({"type": "message", "text": "我回来了"})
    await receive_until(console, is_message("shopper", "我回来了"))
    await back.close()
    await console.close()
