"""The owner dashboard (`/dashboard/`: appointments, calls with transcripts, texts, reports, live updates), its
JSON API (`/api/`, and `/openapi.json`), and the browser phone. Everything needs the owner's login."""

from __future__ import annotations

from fastapi import FastAPI


def include(app: FastAPI) -> None:
    from silentpartner.dashboard import api, pages

    pages.include(app)
    api.include(app)
