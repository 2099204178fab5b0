"""How long Rasa's SQL tracker store takes to load a conversation, with and without our patches.

The Rasa server loads the whole conversation from the tracker store on every turn. This
saves one conversation of ``--turns`` turns (5 events each) to a temporary SQLite tracker
store and times ``retrieve`` with Rasa 3.6 as shipped, then with ``bot.rasa_patches``:

    .venv/bin/python -m bench.tracker_load --turns 15 --repeat 300
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bench.common import ROOT
from bot import rasa_patches


def _conversation(domain: Domain, turns: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("bench", domain.slots)
    for i in range(turns):
        parse = {"intent": {"name": "track_shipment", "confidence": 0.93}, "text": f"快递到哪了{i}",
                 "intent_ranking": [{"name": "track_shipment", "confidence": 0.93}] * 10,
                 "emotion": {"label": "calm", "score": 0.0, "cues": []}}
        tracker.update(UserUttered(f"快递到哪了{i}", parse["intent"], parse_data=parse))
        tracker.update(ActionExecuted("action_check_order_status"))
        tracker.update(SlotSet("order_id", "1234567890123456"))
        tracker.update(BotUttered("亲，您的包裹正在派送中，预计明天送达~"))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


async def _ms_per_load(store: SQLTrackerStore, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        await store.retrieve("bench")
    return (time.perf_counter() - start) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    domain = Domain.load(str(ROOT / "domain.yml"))
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLTrackerStore(domain, dialect="sqlite", db=str(Path(tmp) / "tracker.db"))
        tracker = _conversation(domain, args.turns)
        asyncio.run(store.save(tracker))
        before = asyncio.run(_ms_per_load(store, args.repeat))
        rasa_patches.install()
        after = asyncio.run(_ms_per_load(store, args.repeat))
    print(f"{len(tracker.events)} events, {args.repeat} loads: Rasa 3.6 {before:.2f} ms, "
          f"patched {after:.2f} ms per load (x{before / after:.1f})")


if __name__ == "__main__":
    main()
