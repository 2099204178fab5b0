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


DATABASE_DOWN_TEXT = "亲，系统有点忙，刚才的消息没有发送成功，请稍后再试~"


def is_database_outage(error: BaseException) -> bool:
    """True for "the database is not reachable right now" (not for bugs such as IntegrityError).

    Those requests get 503 and can simply be retried: nothing was stored.
    """
    from sqlalchemy import exc as sa_exc

    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    # asyncpg raises these unwrapped while connecting: connection exceptions (08), admin
    # shutdown / cannot connect now (57P), too many connections, database not accepting
    # connections (55000) or gone (3D000).
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(("08", "57P", "53300", "55000", "3D000")):
        return True
    if type(error).__module__.startswith("asyncpg") and type(error).__name__ in (
            "InterfaceError", "InternalClientError", "ConnectionDoesNotExistError"):
        return True
    return isinstance(error, (ConnectionError, OSError)) and not isinstance(error, FileNotFoundError)
