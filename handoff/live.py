"""Open WebSockets on this instance and what they are told when something changes.

Each socket remembers the last message id it has sent per conversation. A new
message arrives in its bus event with the id of the message before it: a
socket that sent that one sends the new one as is; any other socket (it missed
a notification) reads what is newer from the database. That is also how a
reconnecting client resumes: it says which id it saw last.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any

from aiohttp import web
from sqlalchemy import bindparam, select

from .agents import heartbeat, mark_disconnected
from .context import Context
from .conversations import messages_after
from .models import Conversation
from .tickets import queue_place, queue_view, snapshot_json

log = logging.getLogger(__name__)

_STATE = select(Conversation.state).where(Conversation.id == bindparam("c"))
QUEUE_PUSH_SECONDS = 0.5  # a queue change is pushed after this long, with every other change in between


class Socket:
    """One WebSocket with a send lock (messages leave in order, never twice)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.lock = asyncio.Lock()
        self.last_ids: dict[str, int] = {}

    async def send(self, data: dict[str, Any]) -> None:
        await self.send_text(json.dumps(data))

    async def send_text(self, text: str) -> None:
        """A frame already encoded (one encoding for a frame sent to many sockets)."""
        if not self.ws.closed:
            try:
                await self.ws.send_str(text)
            except (ConnectionResetError, RuntimeError):
                pass

    async def sync(self, ctx: Context, conversation_id: str) -> None:
        """Send what is newer than the last message this socket got, read from the database."""
        async with self.lock:
            await self._sync(ctx, conversation_id)

    async def _sync(self, ctx: Context, conversation_id: str) -> None:
        after = self.last_ids.get(conversation_id, 0)
        for message in await messages_after(ctx, conversation_id, after):
            await self.send({"type": "message", "message": message})
            self.last_ids[conversation_id] = message["id"]

    async def deliver(self, ctx: Context, conversation_id: str, message: dict[str, Any] | None, previous_id: int,
                      frame: str | None = None) -> None:
        """A new message from the bus (``frame``: its message frame, encoded once for all sockets).

        Sent as is when this socket got the conversation's message before it; otherwise (a
        notification was lost, came late, or was too big to carry the message) what is new is
        read from the database, so nothing is skipped or sent twice."""
        async with self.lock:
            last = self.last_ids.get(conversation_id)
            if last is None:  # no longer following the conversation
                return
            if message is not None and message["id"] <= last:
                return
            if message is not None and previous_id == last:
                await self.send_text(frame or json.dumps({"type": "message", "message": message}))
                self.last_ids[conversation_id] = message["id"]
                return
            await self._sync(ctx, conversation_id)


class ShopperSocket(Socket):
    def __init__(self, ws: web.WebSocketResponse, conversation_id: str, after: int) -> None:
        super().__init__(ws)
        self.conversation_id = conversation_id
        self.last_ids[conversation_id] = after
        self._last_state: dict[str, Any] | None = None

    async def refresh(self, ctx: Context) -> None:
        await self.sync(ctx, self.conversation_id)
        await self.send_state(ctx)

    async def send_state(self, ctx: Context) -> None:
        current = await ctx.run_read(
            lambda connection: connection.execute(_STATE, {"c": self.conversation_id}).scalar())
        state: dict[str, Any] = {"type": "state", "state": current or "bot"}
        if current is not None and current != "bot":
            place = await queue_place(ctx, self.conversation_id)
            if place:
                state.update({k: v for k, v in place.items() if k != "status"})
        await self.show_state(state)

    async def show_state(self, state: dict[str, Any]) -> None:
        """Send a state frame unless it is the one this socket showed last."""
        if state != self._last_state:
            self._last_state = state
            await self.send(state)


class AgentSocket(Socket):
    def __init__(self, ws: web.WebSocketResponse, agent_id: int) -> None:
        super().__init__(ws)
        self.agent_id = agent_id


class Hub:
    """Registry of this instance's sockets; receives every bus event.

    What an event costs does not grow with the number of open conversations: a new message
    goes to the sockets following its conversation (the shopper's, and the consoles that
    watch it, found through ``watchers``), carried in the event; a state change makes only
    those sockets re-read; queue changes are pushed at most every ``QUEUE_PUSH_SECONDS``,
    from one read of the queue, to the consoles and to the shoppers waiting in it.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.shoppers: dict[str, set[ShopperSocket]] = defaultdict(set)
        self.agents: dict[int, set[AgentSocket]] = defaultdict(set)
        self.watchers: dict[str, set[AgentSocket]] = defaultdict(set)
        self._queue_dirty = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._queue_pusher()), loop.create_task(self._heartbeats())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.close_sockets(1001, b"server shutting down")

    async def close_sockets(self, code: int, message: bytes) -> None:
        """Clients reconnect on close (1012 = restarting), resuming after their last message id."""
        for sockets in [*self.shoppers.values(), *self.agents.values()]:
            for sock in list(sockets):
                await sock.ws.close(code=code, message=message)

    # ---------------------------------------------------------------- bus
    async def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("t")
        if kind == "msg":
            await self._message_added(str(event.get("c")), event.get("m"), int(event.get("p") or 0))
        elif kind == "conv":
            await self._conversation_changed(str(event.get("c")))
        elif kind == "queue":
            self._queue_dirty.set()
        elif kind == "agent":
            for sock in list(self.agents.get(int(event.get("a", -1)), ())):
                await sock.send({"type": "agent_event", "event": event.get("e", {})})
        elif kind == "resync":
            for conversation_id in list(self.shoppers):
                await self._conversation_changed(conversation_id)
            for sockets in list(self.agents.values()):
                for sock in list(sockets):
                    for conversation_id in list(sock.last_ids):
                        await sock.sync(self.ctx, conversation_id)
            self._queue_dirty.set()

    def _followers(self, conversation_id: str) -> list[Socket]:
        return [*self.shoppers.get(conversation_id, ()), *self.watchers.get(conversation_id, ())]

    async def _message_added(self, conversation_id: str, message: dict[str, Any] | None, previous_id: int) -> None:
        followers = self._followers(conversation_id)
        frame = json.dumps({"type": "message", "message": message}) if message and followers else None
        for sock in followers:
            await sock.deliver(self.ctx, conversation_id, message, previous_id, frame)

    async def _conversation_changed(self, conversation_id: str) -> None:
        for sock in list(self.shoppers.get(conversation_id, ())):
            await sock.refresh(self.ctx)
        for sock in list(self.watchers.get(conversation_id, ())):
            await sock.sync(self.ctx, conversation_id)
            await sock.send({"type": "conversation_changed", "conversation_id": conversation_id})

    async def _queue_pusher(self) -> None:
        """Coalesce queue changes: at most one push every QUEUE_PUSH_SECONDS."""
        while True:
            await self._queue_dirty.wait()
            await asyncio.sleep(QUEUE_PUSH_SECONDS)
            self._queue_dirty.clear()
            try:
                await self._push_queue()
            except Exception:
                log.exception("queue push failed")

    async def _push_queue(self) -> None:
        """The queue to every console, their place to the shoppers waiting in it: one read, one
        encoding of the console frame. Shoppers not in the queue get nothing."""
        consoles = [sock for sockets in self.agents.values() for sock in sockets]
        if not consoles and not self.shoppers:
            return
        view = await queue_view(self.ctx, set(self.shoppers))
        if consoles:
            frame = json.dumps({"type": "queue", "queue": snapshot_json(view.tickets, self.ctx.now(), self.ctx.policy),
                                "server_time": self.ctx.now()})
            for sock in consoles:
                await sock.send_text(frame)
        for conversation_id, place in view.places.items():
            state = {"type": "state", "state": "queued", **{k: v for k, v in place.items() if k != "status"}}
            for sock in list(self.shoppers.get(conversation_id, ())):
                await sock.show_state(state)

    async def _heartbeats(self) -> None:
        interval = max(1.0, float(self.ctx.settings.routing["presence_timeout_seconds"]) / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await heartbeat(self.ctx, [aid for aid, socks in self.agents.items() if socks])
            except Exception:
                log.exception("heartbeat failed")

    # ---------------------------------------------------------------- sockets
    def add_shopper(self, sock: ShopperSocket) -> None:
        self.shoppers[sock.conversation_id].add(sock)

    def remove_shopper(self, sock: ShopperSocket) -> None:
        self.shoppers[sock.conversation_id].discard(sock)
        if not self.shoppers[sock.conversation_id]:
            del self.shoppers[sock.conversation_id]

    def add_agent(self, sock: AgentSocket) -> None:
        self.agents[sock.agent_id].add(sock)

    def watch(self, sock: AgentSocket, conversation_id: str, after: int) -> None:
        """The console follows a conversation from message id ``after`` (kept if already following)."""
        sock.last_ids.setdefault(conversation_id, after)
        self.watchers[conversation_id].add(sock)

    def unwatch(self, sock: AgentSocket, conversation_id: str) -> None:
        sock.last_ids.pop(conversation_id, None)
        watchers = self.watchers.get(conversation_id)
        if watchers is not None:
            watchers.discard(sock)
            if not watchers:
                del self.watchers[conversation_id]

    async def remove_agent(self, sock: AgentSocket) -> None:
        for conversation_id in list(sock.last_ids):
            self.unwatch(sock, conversation_id)
        self.agents[sock.agent_id].discard(sock)
        if not self.agents[sock.agent_id]:
            del self.agents[sock.agent_id]
            await mark_disconnected(self.ctx, sock.agent_id)
