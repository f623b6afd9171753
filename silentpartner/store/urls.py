"""Database URLs as people write them, turned into the async drivers the store runs on.

`postgres://` and `postgresql://` use asyncpg; `sqlite:///` uses aiosqlite. Shared by the settings
(DATABASE_URL) and the store itself (a URL given on the command line, `simulate --db`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

EXPECTED = "sqlite+aiosqlite:///path/to/file.db or postgresql://user:password@host:5432/dbname"


def normalise_database_url(value: str) -> str:
    """The async-driver form of a SQLite or PostgreSQL URL; ValueError (saying what is expected) otherwise."""
    value = value.strip()
    if value.startswith("postgres://"):
        value = "postgresql://" + value[len("postgres://") :]
    if value.startswith("postgresql://"):
        value = "postgresql+asyncpg://" + value[len("postgresql://") :]
    if value.startswith("sqlite:///"):
        value = "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
    if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
        raise ValueError(f"expected {EXPECTED}")
    return value


def without_password(url: str) -> str:
    """The URL fit to print: any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
