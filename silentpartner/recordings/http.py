"""A recording as an HTTP response, with byte ranges: browsers seek in `<audio>` with Range requests, and
Safari plays no media from a server that ignores them. The route (and who may call it) is the caller's:

    recording = await catalog.open_for_call(db, store, business=owner.business, call=call_id)
    if recording is None:
        raise HTTPException(404)
    return recording_response(recording, request.headers.get("range"))
"""

from __future__ import annotations

import re

from starlette.responses import Response, StreamingResponse

from silentpartner.recordings.catalog import Recording

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(first, last) inclusive for a single satisfiable range; None to send the whole file (no header, or a
    form we don't serve, such as several ranges); False when the range lies outside the file (416)."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":  # the last N bytes
        suffix = int(last_text)
        if suffix == 0:
            return False
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        return False
    return first, last


def recording_response(recording: Recording, range_header: str | None = None) -> Response:
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'inline; filename="{recording.filename}"',
        "Cache-Control": "private, no-store",  # a recording of a customer's call stays out of shared caches
    }
    wanted = byte_range(range_header, recording.size)
    if wanted is False:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{recording.size}"})
    if wanted is None:
        headers["Content-Length"] = str(recording.size)
        return StreamingResponse(recording.chunks(), media_type=recording.content_type, headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{recording.size}"
    headers["Content-Length"] = str(last - first + 1)
    return StreamingResponse(
        recording.chunks(first, last + 1), status_code=206, media_type=recording.content_type, headers=headers
    )
