"""The resources every part of the service shares, bundled for plain functions."""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import sessionmaker

from .bus import Bus
from .config import Settings
from .rasa_client import RasaClient


@dataclass
class Context:
    settings: Settings
    engine: AsyncEngine
    sessions: sessionmaker
    bus: Bus
    rasa: RasaClient
    postgres: bool
    clock: Callable[[], float] = time.time
    _conv_locks: dict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))

    @property
    def policy(self) -> dict[str, Any]:
        return self.settings.policy

    def now(self) -> float:
        return self.clock()

    def conversation_lock(self, conversation_id: str) -> asyncio.Lock:
        """Serializes one conversation's shopper turns within this instance."""
        return self._conv_locks[conversation_id]

    async def conversation_changed(self, conversation_id: str) -> None:
        await self.bus.publish({"t": "conv", "c": conversation_id})

    async def queue_changed(self) -> None:
        await self.bus.publish({"t": "queue"})

    async def tell_agent(self, agent_id: int, event: dict[str, Any]) -> None:
        await self.bus.publish({"t": "agent", "a": agent_id, "e": event})


_SQL_CACHE: dict[str, str] = {}


def load_sql(name: str) -> str:
    """Text of handoff/sql/<name>.sql without comment lines (cached)."""
    if name not in _SQL_CACHE:
        raw = resources.files("handoff").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
        # Comments go: text() would read ":name" in them as bind parameters.
        _SQL_CACHE[name] = "\n".join(line for line in raw.splitlines() if not line.lstrip().startswith("--"))
    return _SQL_CACHE[name]
