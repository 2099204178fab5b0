"""``python -m handoff.seed``: create the demo agents and quick replies (idempotent).

Agents and replies come from settings/handoff.yml; running it again updates
names, skills and capacity but never resets a changed password or duplicates
a reply.
"""
from __future__ import annotations

import asyncio

from .agents import upsert_agent
from .bus import LocalBus
from .config import Settings, load_settings
from .context import Context
from .db import create_tables, is_postgres, make_engines, session_factory
from . import quick_replies


async def seed(settings: Settings) -> tuple[int, int]:
    """Returns (agents configured, quick replies added)."""
    engine, writer = make_engines(settings.db_url)
    ctx = Context(settings=settings, engine=engine, sessions=session_factory(engine), bus=LocalBus(),
                  rasa=None, postgres=is_postgres(settings.db_url), writer=writer)  # type: ignore[arg-type]
    try:
        await create_tables(writer)
        agents = settings.policy.get("demo_agents") or []
        for item in agents:
            await upsert_agent(ctx, item["username"], item["password"], item["display_name"], item["skills"],
                               item.get("capacity"))
        added = await quick_replies.seed(ctx, settings.policy.get("quick_replies") or [])
        return len(agents), added
    finally:
        await ctx.dispose()


def main() -> None:
    settings = load_settings()
    agents, added = asyncio.run(seed(settings))
    print(f"handoff seed: {agents} demo agents ready, {added} quick replies added ({settings.db_url})")
    for item in settings.policy.get("demo_agents") or []:
        print(f"  {item['username']} / {item['password']}  {item['display_name']}  skills: {', '.join(item['skills'])}")


if __name__ == "__main__":
    main()
