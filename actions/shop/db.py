"""Database engines and sessions for the shop data (async for the action server).

One helper turns plain URLs (sqlite:///var/shop.db, postgresql://...) into
their async driver form; engines are cached per URL so every action of the
action server shares one connection pool.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from actions.policy import REPO_ROOT
from actions.shop.models import Base

DEFAULT_DB_URL = f"sqlite:///{REPO_ROOT / 'var' / 'shop.db'}"

_engines: Dict[str, AsyncEngine] = {}


def shop_db_url() -> str:
    """KEFU_SHOP_DB_URL, or the sqlite file var/shop.db."""
    return os.environ.get("KEFU_SHOP_DB_URL") or DEFAULT_DB_URL


def async_url(url: str) -> str:
    """The async-driver form of a database URL (sqlite+aiosqlite, postgresql+asyncpg)."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg2://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url and ":memory:" not in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)


def get_engine(url: Optional[str] = None) -> AsyncEngine:
    """The shared async engine for a URL (default: the shop database)."""
    target = async_url(url or shop_db_url())
    engine = _engines.get(target)
    if engine is None:
        _ensure_sqlite_dir(target)
        kwargs = {"pool_pre_ping": True}
        if target.startswith("postgresql"):
            kwargs.update(pool_size=5, max_overflow=10)
        engine = create_async_engine(target, future=True, **kwargs)
        _engines[target] = engine
    return engine


def session_factory(url: Optional[str] = None) -> sessionmaker:
    """AsyncSession factory; objects stay readable after commit."""
    return sessionmaker(get_engine(url), class_=AsyncSession, expire_on_commit=False)


async def create_schema(url: Optional[str] = None) -> None:
    """Create the shop tables if they do not exist."""
    async with get_engine(url).begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def dispose_engines() -> None:
    """Close every cached engine (tests, CLI shutdown)."""
    for engine in list(_engines.values()):
        await engine.dispose()
    _engines.clear()
