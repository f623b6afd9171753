"""The JSON API under `/api/`: the dashboard's data for the owner's own tools. Each route answers with the
session cookie or `Authorization: Bearer <owner token>` (else 401), and only with the owner's business's data
(another business's call is a 404, as a missing one is). `/openapi.json` describes it, behind the same login.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from silentpartner.dashboard import bookings, calls, messages, reports
from silentpartner.dashboard.access import Owner, api_owner, runtime_of
from silentpartner.dashboard.schemas import (
    BookingOut,
    CallCategory,
    CallDetailOut,
    CallOut,
    ReportOut,
    RowId,
    ThreadOut,
)
from silentpartner.recordings import catalog
from silentpartner.recordings.http import recording_response
from silentpartner.recordings.storage import open_store

ApiOwner = Annotated[Owner, Depends(api_owner)]
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "No session and no valid Bearer owner token"}}
router = APIRouter(prefix="/api", tags=["owner"], responses=UNAUTHORIZED)


@router.get("/bookings", response_model=list[BookingOut], summary="Today's and the coming days' appointments")
async def api_bookings(
    request: Request, owner: ApiOwner, days: Annotated[int, Query(ge=1, le=bookings.UPCOMING_DAYS * 4)] = 14
) -> list[BookingOut]:
    return await bookings.upcoming(runtime_of(request), owner.business, days=days)


@router.get("/calls", response_model=list[CallOut], summary="The latest calls, newest first")
async def api_calls(request: Request, owner: ApiOwner, outcome: CallCategory | None = None) -> list[CallOut]:
    return await calls.recent(runtime_of(request), owner.business, only=outcome)


@router.get(
    "/calls/{call_id}",
    response_model=CallDetailOut,
    summary="One call: summary, transcript with turn latency, the booking it made",
    responses={404: {"description": "No such call for this business"}},
)
async def api_call(request: Request, call_id: RowId, owner: ApiOwner) -> CallDetailOut:
    call = await calls.detail(runtime_of(request), owner.business, call_id)
    if call is None:
        raise HTTPException(404, "no such call")
    return call


@router.get(
    "/calls/{call_id}/recording",
    summary="The call's recording (stereo: the caller left, the receptionist right), with byte ranges",
    response_class=Response,
    responses={
        200: {"content": {"audio/flac": {}, "audio/ogg": {}}},
        206: {"description": "The range asked for"},
        404: {"description": "No such call for this business, or it was not recorded"},
    },
)
async def api_call_recording(request: Request, call_id: RowId, owner: ApiOwner) -> Response:
    runtime = runtime_of(request)
    recording = await catalog.open_for_call(
        runtime.db, open_store(runtime.settings), business=owner.business.slug, call=call_id
    )
    if recording is None:
        raise HTTPException(404, "no recording of such a call")
    return recording_response(recording, request.headers.get("range"))


@router.get("/messages", response_model=list[ThreadOut], summary="Text threads with delivery status and opt-outs")
async def api_messages(request: Request, owner: ApiOwner) -> list[ThreadOut]:
    return await messages.threads(runtime_of(request), owner.business)


@router.get("/reports", response_model=ReportOut, summary="Calls, bookings, conversion, latency by day or week")
async def api_reports(request: Request, owner: ApiOwner, period: reports.Period = "day") -> ReportOut:
    return await reports.report(runtime_of(request), owner.business, period)


def include(app: FastAPI) -> None:
    app.include_router(router)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(owner: ApiOwner) -> JSONResponse:
        """The app's OpenAPI document, for logged-in owners only (it maps every route)."""
        return JSONResponse(app.openapi(), headers={"Cache-Control": "no-store"})
