"""What can go wrong reaching the database, said in one line an operator can act on.

Drivers report these as a dozen exception types, some wrapped twice (SQLAlchemy around asyncpg's), so
`explain()` looks through the chain by class name: asyncpg is optional (the `[postgres]` extra) and is
never imported here.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sqlalchemy.engine import make_url

from silentpartner.store.urls import without_password


class DatabaseUnavailable(Exception):
    """The database cannot be used as configured (DATABASE_URL, or `--db`); the message is one line naming
    the fix."""


def first_line(exc: BaseException) -> str:
    """`Type: message`, first line only (SQLAlchemy appends a "Background on this error" line)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [getattr(item, "orig", None), item.__cause__, item.__context__]
    return seen


def sqlite_folder_problem(url: str) -> str | None:
    """Why the SQLite file at `url` cannot be created or opened for its folder's sake, or None.

    Asked before connecting: aiosqlite, when its connect fails, stops its thread without waiting for it,
    and that thread then writes a traceback if the event loop has closed in the meantime."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    path = Path(database)
    folder = path.parent
    if not folder.is_dir():
        why = "does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK):
        why = "cannot be written to"
    else:
        return None
    return f"database: cannot open the SQLite file {path}: its folder {folder} {why}; create it or fix the URL"


def _where(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def explain(exc: BaseException, url: str) -> str | None:
    """One line for a failure to open or reach the database at `url`, or None if `exc` is not one."""
    chain = _chain(exc)
    names = {type(e).__name__ for e in chain}
    shown = without_password(url)
    if url.startswith("sqlite"):
        if any("unable to open database file" in str(e) for e in chain):
            return sqlite_folder_problem(url) or f"database: cannot open the SQLite file {make_url(url).database}"
        return None
    where = _where(url)
    user = make_url(url).username or "(none)"
    database = make_url(url).database or "(none)"
    if names & {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}:
        return f"database: PostgreSQL at {where} refused user {user!r}: check the user and password in {shown}"
    if "InvalidCatalogNameError" in names:
        return f"database: PostgreSQL at {where} has no database {database!r}: create it (createdb {database})"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return f"database: nothing answers at {where} (connection refused): start PostgreSQL or fix the URL"
    if any(isinstance(e, socket.gaierror) for e in chain):
        return f"database: the host in {shown} is not known: fix the host name"
    if any(isinstance(e, TimeoutError) for e in chain):
        return f"database: PostgreSQL at {where} did not answer in time: check the host, port and firewall"
    if any(isinstance(e, OSError) for e in chain):
        return f"database: cannot reach PostgreSQL at {where}: {first_line(exc)}"
    return None
