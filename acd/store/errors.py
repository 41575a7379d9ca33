"""One clear line for a database problem met by a command (`report`, `migrate`, `purge`,
`user add`), instead of asyncpg's 30-line traceback.

Only what means "the database at this DSN cannot be used" is described: connection
failures, a refused login, a missing database or schema, any PostgreSQL error. Anything
else (a bug, a CSV that cannot be written) is left to propagate.
"""

from __future__ import annotations

import errno
import os
import socket
from urllib.parse import urlsplit

# Connecting failed at the socket level (asyncpg raises the OSError as it is).
_CONNECT_ERRNOS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH,
                             errno.ECONNRESET, errno.ETIMEDOUT, errno.EADDRNOTAVAIL,
                             errno.ENOENT})  # ENOENT: no Unix socket at that path


def where(dsn: str) -> str:
    """The DSN without its password: what to name in a message."""
    try:
        parts = urlsplit(dsn)
        if parts.password is None:
            return dsn
        netloc = parts.netloc.rpartition("@")[2]
        user = parts.username or ""
        return parts._replace(netloc=f"{user}@{netloc}").geturl()
    except ValueError:
        return "the database"


def describe(exc: BaseException, dsn: str) -> str | None:
    """The line to print for `exc`, or None when it is not a database problem."""
    at = where(dsn)
    if isinstance(exc, socket.gaierror):
        return f"cannot connect to {at}: unknown host ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return f"cannot connect to {at}: no answer (timed out)"
    # A socket error has no file name; a CSV that cannot be written has one.
    if isinstance(exc, OSError) and exc.filename is None and (
            isinstance(exc, ConnectionError) or exc.errno in _CONNECT_ERRNOS):
        # asyncpg's strerror is "Connect call failed ('127.0.0.1', 1)": say why instead.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        return f"cannot connect to {at}: {reason.lower()}"
    if type(exc).__module__.split(".")[0] != "asyncpg":
        return None
    import asyncpg

    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"{exc} ({at}): create it, then run acd117 migrate"
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError
                  | asyncpg.InvalidPasswordError):
        return f"{at} refused the login: {exc}"
    if isinstance(exc, asyncpg.UndefinedTableError):
        return f"{at} has no acd117 schema ({exc}): run acd117 migrate"
    if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
        return f"database error at {at}: {exc}"
    return None
