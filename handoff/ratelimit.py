"""Flood protection: token buckets per conversation and per client address.

A shopper (or a script) that sends faster than a person can type is slowed
down with a polite Chinese note (WebSocket) or HTTP 429 with a JSON error and
``Retry-After`` (HTTP API). Buckets live in this process's memory: with
several instances each one limits what it receives, which is what a flood
hits first anyway. Figures: ``rate_limits`` in settings/handoff.yml.

Client address: the TCP peer, or - only when the peer is a trusted proxy
(``trusted_proxies``) - the nearest untrusted address of X-Forwarded-For, so
a shopper cannot dodge the limit by sending that header themselves.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from aiohttp import web

from .errors import HandoffError

# Shopper-facing texts (the widget shows ``message`` as it is).
CONVERSATION_TEXT = "亲，您发消息太快啦，请稍等{seconds}秒再发哦~"
ADDRESS_TEXT = "亲，当前网络发出的请求太频繁了，请稍等{seconds}秒再试~"
LOGIN_TEXT = "登录尝试过于频繁，请{seconds}秒后再试。"


class RateLimited(HandoffError):
    """HTTP 429; ``retry_after`` whole seconds until the next request is allowed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__("rate_limited", message, 429)
        self.retry_after = max(1, math.ceil(retry_after))

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "retry_after_seconds": self.retry_after}


class TokenBucket:
    """``burst`` requests at once, refilled at ``per_minute``; one bucket per key.

    Only the most recent ``max_keys`` keys are kept, so a flood of fresh keys
    (random conversation ids, spoofed addresses) cannot grow memory without bound.
    """

    def __init__(self, burst: float, per_minute: float, clock: Callable[[], float], max_keys: int = 50_000) -> None:
        self.burst = float(burst)
        self.rate = float(per_minute) / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Spend one token for ``key``: 0.0 if allowed, else seconds until one is free."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
        if tokens >= 1.0:
            self._remember(key, tokens - 1.0, now)
            return 0.0
        self._remember(key, tokens, now)
        return (1.0 - tokens) / self.rate if self.rate > 0 else 3600.0

    def _remember(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


@dataclass
class RateLimits:
    """The service's buckets; built from the ``rate_limits`` policy section."""

    conversation_messages: TokenBucket
    address_messages: TokenBucket
    address_new_conversations: TokenBucket
    address_logins: TokenBucket
    trusted_proxies: frozenset[str]
    exempt_addresses: frozenset[str]

    @classmethod
    def from_policy(cls, policy: Mapping[str, Any], clock: Callable[[], float]) -> "RateLimits":
        def bucket(name: str) -> TokenBucket:
            spec = policy[name]
            return TokenBucket(spec["burst"], spec["per_minute"], clock)

        return cls(
            conversation_messages=bucket("conversation_messages"),
            address_messages=bucket("address_messages"),
            address_new_conversations=bucket("address_new_conversations"),
            address_logins=bucket("address_logins"),
            trusted_proxies=frozenset(policy.get("trusted_proxies") or ()),
            exempt_addresses=frozenset(policy.get("exempt_addresses") or ()),
        )

    def client_address(self, request: web.Request) -> str:
        peer = request.remote or "unknown"
        if peer not in self.trusted_proxies:
            return peer
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
        for address in reversed(forwarded):
            if address not in self.trusted_proxies:
                return address[:64]
        return peer

    def _check_address(self, bucket: TokenBucket, request: web.Request, text: str) -> None:
        address = self.client_address(request)
        if address in self.exempt_addresses:
            return
        wait = bucket.take(address)
        if wait:
            raise RateLimited(text.format(seconds=max(1, math.ceil(wait))), wait)

    def shopper_message(self, request: web.Request, conversation_id: str) -> None:
        """Before storing a shopper message: per conversation, then per address."""
        wait = self.conversation_messages.take(conversation_id)
        if wait:
            raise RateLimited(CONVERSATION_TEXT.format(seconds=max(1, math.ceil(wait))), wait)
        self._check_address(self.address_messages, request, ADDRESS_TEXT)

    def new_conversation(self, request: web.Request) -> None:
        self._check_address(self.address_new_conversations, request, ADDRESS_TEXT)

    def agent_login(self, request: web.Request) -> None:
        self._check_address(self.address_logins, request, LOGIN_TEXT)
