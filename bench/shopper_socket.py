"""A storefront conversation on /ws/shopper, opened the way the widget opens it (shared by the benches)."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import aiohttp


class SocketNotOpened(Exception):
    """The conversation could not be created or its socket not opened; the message says why."""


@asynccontextmanager
async def shopper_socket(http: aiohttp.ClientSession,
                         handoff_url: str) -> AsyncIterator[tuple[aiohttp.ClientWebSocketResponse, asyncio.Queue]]:
    """Create a conversation, open its socket and queue every frame it brings (a closed socket
    queues ``{"type": "closed"}``); the socket is closed on exit."""
    try:
        async with http.post(f"{handoff_url}/api/shopper/conversations") as r:
            if r.status != 201:
                raise SocketNotOpened(f"create HTTP {r.status}")
            chat: dict[str, Any] = await r.json()
        ws = await http.ws_connect(
            f"{handoff_url}/ws/shopper?conversation_id={chat['conversation_id']}&token={chat['token']}")
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        status = getattr(exc, "status", None)
        raise SocketNotOpened(f"connect {type(exc).__name__}" + (f" HTTP {status}" if status else "")) from exc
    frames: asyncio.Queue = asyncio.Queue()

    async def reader() -> None:
        async for frame in ws:
            if frame.type == aiohttp.WSMsgType.TEXT:
                frames.put_nowait(frame.json())
        frames.put_nowait({"type": "closed"})

    reading = asyncio.ensure_future(reader())
    try:
        yield ws, frames
    finally:
        await ws.close()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
