"""Tables of the handoff service, in the shop's words.

Times are stored as UNIX epoch seconds (floats): the same on SQLite and
PostgreSQL, no time-zone surprises, and cheap arithmetic for aging and
targets. JSON payloads (skills, summary, message extras) are stored as text.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(value: str | None, default: Any = None) -> Any:
    if not value:
        return default
    try:
        return json.loads(value)
    except ValueError:
        return default


class Agent(Base):
    """A human agent who answers shoppers in the console."""

    __tablename__ = "agents"
    id = Column(Integer, primary_key=True)
    username = Column(String(64), unique=True, nullable=False)
    display_name = Column(String(64), nullable=False)
    password_hash = Column(String(256), nullable=False)
    skills = Column(Text, nullable=False, default="[]")  # JSON list of skills
    capacity = Column(Integer, nullable=False, default=3)
    status = Column(String(16), nullable=False, default="offline")  # online | away | offline
    last_seen_at = Column(Float, nullable=False, default=0.0)
    created_at = Column(Float, nullable=False)

    @property
    def skill_list(self) -> list[str]:
        return list(loads(self.skills, []))


class AgentSession(Base):
    """A login: only the SHA-256 of the bearer token is stored."""

    __tablename__ = "agent_sessions"
    token_hash = Column(String(64), primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False)
    expires_at = Column(Float, nullable=False)


class Conversation(Base):
    """One shopper's chat; its id is the Rasa sender id."""

    __tablename__ = "conversations"
    id = Column(String(64), primary_key=True)
    token_hash = Column(String(64), nullable=True)  # None: created by the bot (REST channel)
    channel = Column(String(16), nullable=False, default="web")
    state = Column(String(16), nullable=False, default="bot")  # bot | queued | assigned
    needs_resume = Column(Boolean, nullable=False, default=False)
    created_at = Column(Float, nullable=False)
    updated_at = Column(Float, nullable=False)


class Message(Base):
    """Every line of a conversation, stored before anyone sees it.

    ``id`` grows monotonically, so clients resume with "everything after id N".
    """

    __tablename__ = "messages"
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(64), ForeignKey("conversations.id"), nullable=False)
    sender = Column(String(16), nullable=False)  # shopper | bot | agent | system
    text = Column(Text, nullable=False)
    agent_id = Column(Integer, nullable=True)
    agent_name = Column(String(64), nullable=True)
    extra = Column(Text, nullable=True)  # JSON: buttons, rating request ...
    created_at = Column(Float, nullable=False)

    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)


class Ticket(Base):
    """A handoff from the bot: what the agent needs and where it stands."""

    __tablename__ = "tickets"
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(64), ForeignKey("conversations.id"), nullable=False)
    status = Column(String(16), nullable=False, default="queued")  # queued | assigned | resolved | handed_back
    reason = Column(String(48), nullable=False)
    skill = Column(String(32), nullable=False)
    priority = Column(Float, nullable=False)
    level = Column(String(16), nullable=False)
    emotion_score = Column(Float, nullable=True)
    emotion_label = Column(String(32), nullable=True)
    emotion_cues = Column(Text, nullable=True)  # JSON list
    customer_id = Column(String(64), nullable=True)
    vip_tier = Column(String(32), nullable=True)
    order_id = Column(String(32), nullable=True)
    order_amount = Column(Float, nullable=True)
    summary = Column(Text, nullable=True)  # JSON: intents, entities, slots, last text
    created_at = Column(Float, nullable=False)
    enqueued_at = Column(Float, nullable=False)  # first entry into the queue; kept on requeue
    target_at = Column(Float, nullable=False)  # first-response deadline
    offered_to = Column(Integer, nullable=True)
    offer_expires_at = Column(Float, nullable=True)
    declined_by = Column(Text, nullable=False, default="[]")  # JSON list of agent ids
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=True)
    assigned_at = Column(Float, nullable=True)
    first_response_at = Column(Float, nullable=True)
    awaiting_agent_since = Column(Float, nullable=True)  # shopper waiting for the agent since
    breached = Column(Boolean, nullable=False, default=False)
    transfers = Column(Integer, nullable=False, default=0)
    closed_at = Column(Float, nullable=True)
    rating = Column(Integer, nullable=True)
    rated_agent_id = Column(Integer, nullable=True)
    rated_at = Column(Float, nullable=True)

    __table_args__ = (
        Index("ix_tickets_status_skill", "status", "skill"),
        Index("ix_tickets_conversation_id", "conversation_id"),
        Index("ix_tickets_agent_id_status", "agent_id", "status"),
    )


class QuickReply(Base):
    """A canned answer (快捷回复) agents search and insert."""

    __tablename__ = "quick_replies"
    id = Column(Integer, primary_key=True, autoincrement=True)
    topic = Column(String(32), nullable=False)
    title = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    updated_at = Column(Float, nullable=False)
    updated_by = Column(Integer, nullable=True)
