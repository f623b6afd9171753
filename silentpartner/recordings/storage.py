"""Where recordings are kept: a small store of finished files by key.

The app ships the local store (a folder, `RECORDINGS_DIR`). The interface is the part of an S3-compatible
object store a recording needs, so such a store can replace it in production without touching its users:
`put` is PutObject (or a multipart upload) from the finished file, `open` a GetObject with a Range header,
`size` a HeadObject's Content-Length (None on 404), `delete` a DeleteObject.

Keys look like `mikes-plumbing/2026/11/CA0123....flac`: the business first, so a bucket policy or a
folder listing can be scoped to one business, and nothing but slugs, digits and sid characters, so a key
is never a path trick.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from silentpartner.settings import Settings

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}/\d{4}/\d{2}/[A-Za-z0-9]{2,64}\.(flac|ogg)$")
CHUNK = 64 * 1024
IN_PROGRESS = ".in-progress"  # under RECORDINGS_DIR: tracks of calls being recorded (no key starts with a dot)


class BadKey(ValueError):
    """Not a recording key this store hands out."""


def check_key(key: str) -> str:
    if not KEY.fullmatch(key):
        raise BadKey(f"not a recording key: {key[:80]!r}")
    return key


class RecordingStore(Protocol):
    async def put(self, key: str, source: Path) -> int:
        """Store the finished file at `source` under `key` (replacing any earlier one whole, never partly);
        `source` is consumed. Returns the stored size in bytes."""
        ...

    def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of `key` from `start` up to (not including) `end`, in chunks. FileNotFoundError if gone."""
        ...

    async def size(self, key: str) -> int | None:
        """The stored size, or None when there is no such recording."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> bool:
        """Remove `key`; True when there was something to remove."""
        ...


class LocalRecordingStore:
    """Recordings as files under one folder, written by atomic rename so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:  # the pattern already forbids it; a second lock on the same door
            raise BadKey(f"not a recording key: {key[:80]!r}")
        return path

    async def put(self, key: str, source: Path) -> int:
        return await asyncio.to_thread(self._put, self.path(key), Path(source))

    @staticmethod
    def _put(target: Path, source: Path) -> int:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as file:  # on disk before it takes the key: a crash leaves old or new, whole
            os.fsync(file.fileno())
        try:
            os.replace(source, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # Another filesystem: copy beside the target, then rename there.
            partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
            try:
                shutil.copyfile(source, partial)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            source.unlink(missing_ok=True)
        return target.stat().st_size

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path(key)
        file = await asyncio.to_thread(open, path, "rb")
        try:
            await asyncio.to_thread(file.seek, max(0, start))
            left = None if end is None else max(0, end - max(0, start))
            while left is None or left > 0:
                chunk = await asyncio.to_thread(file.read, CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            file.close()

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self.path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def delete(self, key: str) -> bool:
        path = self.path(key)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        return True


def open_store(settings: Settings) -> LocalRecordingStore:
    """The store the settings name (today always the local folder; an S3 store would be chosen here)."""
    return LocalRecordingStore(settings.recordings_dir)


def in_progress_dir(settings: Settings) -> Path:
    """Where a live call's raw tracks are written, on the same disk as the local store (so filing is a rename)."""
    return Path(settings.recordings_dir) / IN_PROGRESS
