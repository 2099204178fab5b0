"""Open WebSockets on this instance and what they are told when something changes.

Each socket remembers the last message id it has sent per conversation; on
a notification it sends what is newer, read from the database. That is also
how a reconnecting client resumes: it says which id it saw last.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from aiohttp import web

from .agents import heartbeat, mark_disconnected
from .context import Context
from .conversations import messages_after
from .models import Conversation
from .tickets import queue_place, queue_snapshot

log = logging.getLogger(__name__)


class Socket:
    """One WebSocket with a send lock (messages leave in order, never twice)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.lock = asyncio.Lock()
        self.last_ids: dict[str, int] = {}

    async def send(self, data: dict[str, Any]) -> None:
        if not self.ws.closed:
            try:
                await self.ws.send_json(data)
            except (ConnectionResetError, RuntimeError):
                pass

    async def sync(self, ctx: Context, conversation_id: str) -> None:
        async with self.lock:
            after = self.last_ids.get(conversation_id, 0)
            for message in await messages_after(ctx, conversation_id, after):
                await self.send({"type": "message", "message": message})
                self.last_ids[conversation_id] = message["id"]


class ShopperSocket(Socket):
    def __init__(self, ws: web.WebSocketResponse, conversation_id: str, after: int) -> None:
        super().__init__(ws)
        self.conversation_id = conversation_id
        self.last_ids[conversation_id] = after

    async def refresh(self, ctx: Context) -> None:
        await self.sync(ctx, self.conversation_id)
        await self.send_state(ctx)

    async def send_state(self, ctx: Context) -> None:
        async with ctx.sessions() as session:
            conv = await session.get(Conversation, self.conversation_id)
        state: dict[str, Any] = {"type": "state", "state": conv.state if conv else "bot"}
        if conv is not None and conv.state != "bot":
            place = await queue_place(ctx, self.conversation_id)
            if place:
                state.update({k: v for k, v in place.items() if k != "status"})
        await self.send(state)


class AgentSocket(Socket):
    def __init__(self, ws: web.WebSocketResponse, agent_id: int) -> None:
        super().__init__(ws)
        self.agent_id = agent_id


class Hub:
    """Registry of this instance's sockets; receives every bus event."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.shoppers: dict[str, set[ShopperSocket]] = defaultdict(set)
        self.agents: dict[int, set[AgentSocket]] = defaultdict(set)
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
        if kind == "conv":
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

    async def _conversation_changed(self, conversation_id: str) -> None:
        for sock in list(self.shoppers.get(conversation_id, ())):
            await sock.refresh(self.ctx)
        for sockets in list(self.agents.values()):
            for sock in list(sockets):
                if conversation_id in sock.last_ids:
                    await sock.sync(self.ctx, conversation_id)
                    await sock.send({"type": "conversation_changed", "conversation_id": conversation_id})

    async def _queue_pusher(self) -> None:
        """Coalesce queue changes: at most a few snapshots per second."""
        while True:
            await self._queue_dirty.wait()
            await asyncio.sleep(0.15)
            self._queue_dirty.clear()
            try:
                if any(self.agents.values()):
                    queue = await queue_snapshot(self.ctx)
                    for sockets in list(self.agents.values()):
                        for sock in list(sockets):
                            await sock.send({"type": "queue", "queue": queue, "server_time": self.ctx.now()})
                for sockets in list(self.shoppers.values()):
                    for sock in list(sockets):
                        await sock.send_state(self.ctx)
            except Exception:
                log.exception("queue push failed")

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

    async def remove_agent(self, sock: AgentSocket) -> None:
        self.agents[sock.agent_id].discard(sock)
        if not self.agents[sock.agent_id]:
            del self.agents[sock.agent_id]
            await mark_disconnected(self.ctx, sock.agent_id)
