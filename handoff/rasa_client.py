"""The two calls the service makes to Rasa: the REST channel and "resume"."""
from __future__ import annotations

import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


class BotUnavailable(Exception):
    """Rasa could not be reached or answered with an error."""


class RasaClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, timeout: float) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """POST the shopper's text to the REST channel; return the bot's replies."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        try:
            async with self._session.post(
                f"{self._base}/webhooks/rest/webhook", json=body, timeout=self._timeout
            ) as resp:
                if resp.status != 200:
                    raise BotUnavailable(f"rasa answered HTTP {resp.status}")
                replies = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise BotUnavailable(str(error) or type(error).__name__) from error
        if not isinstance(replies, list):
            raise BotUnavailable("rasa answered something that is not a list")
        return [r for r in replies if isinstance(r, dict)]

    async def resume(self, sender: str) -> bool:
        """Un-pause the Rasa conversation after an agent is done; False if that failed."""
        url = f"{self._base}/conversations/{sender}/tracker/events"
        try:
            async with self._session.post(
                url, params={"token": self._token}, json={"event": "resume"}, timeout=self._timeout
            ) as resp:
                if resp.status >= 300:
                    log.warning("rasa resume for %s answered HTTP %s", sender, resp.status)
                    return False
                return True
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("rasa resume for %s failed: %s", sender, error)
            return False
