"""One error type for everything a caller did wrong, with a code and a clear message."""
from __future__ import annotations


class HandoffError(Exception):
    """Raised by the service logic; the web layer turns it into JSON."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}
