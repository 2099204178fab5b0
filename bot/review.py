"""``python -m bot.review``: what the bot got wrong or was unsure of, for a trainer to label.

Reads Rasa's SQL tracker store (the ``events`` table of
``rasa.core.tracker_store.SQLTrackerStore``) and exports

* user messages whose intent confidence is below ``--threshold`` (default 0.6),
* messages the FallbackClassifier turned into ``nlu_fallback``,
* the last ``--context`` user messages before each ``action_handoff``
  (what the bot could not handle),

with phone numbers, order numbers' middle digits and addresses masked
(bot/pii.py), as

* ``review-<time>.yml``: Rasa NLU training data, one ``- intent:`` block per
  message, named after the bot's best guess, with the guess as a comment
  (``# predicted: track_shipment 0.41``). The trainer fixes the intent names,
  deletes what is not worth learning and pastes the rest into data/nlu/.
* ``review-<time>.csv``: the same, one row per message, for a spreadsheet.

Tracker store: ``KEFU_TRACKER_URL`` (a SQLAlchemy URL, e.g. PostgreSQL), else
the SQLite file ``KEFU_TRACKER_DB`` (default var/rasa_tracker.db).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import sqlalchemy as sa

from bot.pii import mask_pii

FALLBACK_INTENT = "nlu_fallback"
HANDOFF_ACTION = "action_handoff"
REASONS = ("fallback", "low_confidence", "before_handoff")


@dataclass
class ReviewItem:
    """One shopper message worth a trainer's look."""

    conversation: str
    timestamp: float
    text: str  # masked
    predicted: str  # the bot's best real intent (never nlu_fallback)
    confidence: float
    reason: str  # one of REASONS


def tracker_url(env: Optional[dict] = None) -> str:
    env = os.environ if env is None else env
    if env.get("KEFU_TRACKER_URL"):
        return env["KEFU_TRACKER_URL"]
    return f"sqlite:///{env.get('KEFU_TRACKER_DB', 'var/rasa_tracker.db')}"


def _events(url: str, since: Optional[float]) -> Iterator[tuple[str, str, Optional[str], dict[str, Any]]]:
    """(sender_id, type_name, action_name, data) in the order they happened, per conversation."""
    engine = sa.create_engine(url)
    events = sa.table("events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"),
                      sa.column("timestamp"), sa.column("action_name"), sa.column("data"))
    query = sa.select(events.c.sender_id, events.c.type_name, events.c.action_name, events.c.data).where(
        events.c.type_name.in_(("user", "action")))
    if since is not None:
        query = query.where(events.c.timestamp >= since)
    try:
        with engine.connect() as conn:
            for sender, kind, action, data in conn.execute(query.order_by(events.c.sender_id, events.c.id)):
                try:
                    parsed = json.loads(data) if data else {}
                except ValueError:
                    parsed = {}
                yield sender, kind, action, parsed
    finally:
        engine.dispose()


def _guess(parse: dict[str, Any]) -> tuple[str, float]:
    """The best intent that is not the fallback, with its confidence."""
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    if ranking:
        best = max(ranking, key=lambda r: r.get("confidence") or 0.0)
        return str(best.get("name")), float(best.get("confidence") or 0.0)
    intent = parse.get("intent") or {}
    return str(intent.get("name") or "unknown"), float(intent.get("confidence") or 0.0)


def collect(url: str, threshold: float = 0.6, context: int = 3, since: Optional[float] = None) -> list[ReviewItem]:
    """Every message to review, oldest conversation first; each message once (first reason wins)."""
    items: list[ReviewItem] = []
    seen: set[tuple[str, str]] = set()
    recent: dict[str, list[ReviewItem]] = {}

    def add(item: ReviewItem) -> None:
        key = (item.conversation, item.text)
        if key not in seen:
            seen.add(key)
            items.append(item)

    for sender, kind, action, data in _events(url, since):
        if kind == "user":
            text = (data.get("text") or "").strip()
            if not text or text.startswith("/"):  # button payloads are not language
                continue
            parse = data.get("parse_data") or {}
            top = (parse.get("intent") or {})
            predicted, confidence = _guess(parse)
            item = ReviewItem(sender, float(data.get("timestamp") or 0.0), mask_pii(text), predicted, confidence, "")
            if top.get("name") == FALLBACK_INTENT:
                item.reason = "fallback"
                add(item)
            elif float(top.get("confidence") or 0.0) < threshold:
                item.reason = "low_confidence"
                add(item)
            recent.setdefault(sender, []).append(item)
            del recent[sender][:-context or None]
        elif action == HANDOFF_ACTION:
            for earlier in recent.pop(sender, [])[-context:] if context else []:
                if not earlier.reason:
                    earlier.reason = "before_handoff"
                add(earlier)
    return items


def _yaml_text(text: str) -> str:
    """One training example on one line (Rasa reads examples line by line)."""
    return " ".join(text.split())


def write_yaml(items: Iterable[ReviewItem], path: Path, threshold: float) -> None:
    items = list(items)
    lines = [
        'version: "3.1"',
        f"# Exported by `python -m bot.review` on {dt.datetime.now().isoformat(timespec='minutes')}:",
        f"# {len(items)} messages the bot was unsure of (confidence < {threshold}), fell back on,",
        "# or that came just before a handoff. Personal data is masked (****).",
        "# For each block: correct the intent name, delete examples not worth learning,",
        "# then move the blocks into the matching data/nlu/*.yml file.",
        "nlu:",
    ]
    for item in items:
        lines.append(f"# predicted: {item.predicted} {item.confidence:.2f} ({item.reason}, conversation {item.conversation[:12]})")
        lines.append(f"- intent: {item.predicted}")
        lines.append("  examples: |")
        lines.append(f"    - {_yaml_text(item.text)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(items: Iterable[ReviewItem], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # utf-8-sig: Excel shows the Chinese
        writer = csv.writer(fh)
        writer.writerow(["conversation", "time", "reason", "predicted_intent", "confidence", "text"])
        for item in items:
            when = dt.datetime.fromtimestamp(item.timestamp).isoformat(timespec="seconds") if item.timestamp else ""
            writer.writerow([item.conversation, when, item.reason, item.predicted, f"{item.confidence:.2f}", item.text])


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.review", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracker-url", default=None, help="SQLAlchemy URL of Rasa's tracker store")
    parser.add_argument("--threshold", type=float, default=0.6, help="intent confidence below this is 'unsure'")
    parser.add_argument("--context", type=int, default=3, help="user messages kept before each handoff")
    parser.add_argument("--days", type=float, default=None, help="only the last N days")
    parser.add_argument("--out", type=Path, default=Path("reports/review"), help="output folder")
    args = parser.parse_args(argv)

    url = args.tracker_url or tracker_url()
    since = (dt.datetime.now() - dt.timedelta(days=args.days)).timestamp() if args.days else None
    try:
        items = collect(url, args.threshold, args.context, since)
    except sa.exc.SQLAlchemyError as error:
        print(f"Cannot read the tracker store at {sa.engine.make_url(url).render_as_string(hide_password=True)}: "
              f"{error.__class__.__name__}. Has the bot served any conversation yet?", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    yml, table = args.out / f"review-{stamp}.yml", args.out / f"review-{stamp}.csv"
    write_yaml(items, yml, args.threshold)
    write_csv(items, table)
    counts = {reason: sum(i.reason == reason for i in items) for reason in REASONS}
    print(f"{len(items)} messages to review ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    print(f"  {yml}\n  {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
