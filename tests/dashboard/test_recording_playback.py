"""A call's recording in the dashboard: the call page plays it, the API serves it with byte ranges to its own
business's owner, and to nobody else. The file is made by the product's own filer from two μ-law tracks."""

from __future__ import annotations

import httpx
import soundfile

from silentpartner.recordings.storage import in_progress_dir, open_store
from silentpartner.store import Database
from silentpartner.voice.recording_files import Filing, file_recording
from tests.conftest import PINNED_NOW
from tests.dashboard.dashboard_app import MIKE_TOKEN, SPARKS_TOKEN, DashboardApp, run_async
from tests.dashboard.test_access import bearer, log_in, with_session
from tests.test_recordings import tone


def _file_a_recording(served: DashboardApp, sid: str) -> str:
    settings = served.settings

    async def file_it() -> str | None:
        db = Database(settings.database_url)
        try:
            filing = Filing(db, open_store(settings), in_progress_dir(settings), "flac")
            filing.folder.mkdir(parents=True, exist_ok=True)
            caller, agent = filing.tracks(sid)
            caller.write_bytes(tone(3.0, 300))
            agent.write_bytes(tone(1.5, 700))
            return await file_recording(filing, sid, "mikes-plumbing", PINNED_NOW)
        finally:
            await db.close()

    key = run_async(file_it())
    assert key is not None
    return key


def test_a_recorded_call_plays_for_its_owner_and_no_one_else(served: DashboardApp) -> None:
    booked, missed = served.seeded.calls["booked"], served.seeded.calls["missed"]
    key = _file_a_recording(served, served.seeded.call_sids["booked"])
    size = (served.settings.recordings_dir / key).stat().st_size
    with httpx.Client(base_url=served.url) as client:
        call = client.get(f"/api/calls/{booked}", headers=bearer(MIKE_TOKEN)).json()
        assert call["recording_url"] == f"/api/calls/{booked}/recording"
        whole = client.get(call["recording_url"], headers=bearer(MIKE_TOKEN))
        assert whole.status_code == 200 and whole.headers["content-type"] == "audio/flac"
        assert whole.headers["accept-ranges"] == "bytes" and len(whole.content) == size
        info = soundfile.info(served.settings.recordings_dir / key)
        assert info.channels == 2 and info.samplerate == 8000
        part = client.get(call["recording_url"], headers={**bearer(MIKE_TOKEN), "Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == whole.content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{size}"
        beyond = client.get(call["recording_url"], headers={**bearer(MIKE_TOKEN), "Range": f"bytes={size}-"})
        assert beyond.status_code == 416
        # Another business's owner, no login, and a call that kept no recording: nothing to play.
        assert client.get(call["recording_url"], headers=bearer(SPARKS_TOKEN)).status_code == 404
        assert client.get(call["recording_url"]).status_code == 401
        assert client.get(f"/api/calls/{missed}/recording", headers=bearer(MIKE_TOKEN)).status_code == 404
        assert client.get(f"/api/calls/{missed}", headers=bearer(MIKE_TOKEN)).json()["recording_url"] is None
        # The call page plays it from the same address, with the owner's session.
        cookie = log_in(client, MIKE_TOKEN)
        page = client.get(f"/dashboard/calls/{booked}", headers=with_session(cookie)).text
        assert f'<audio controls preload="none" src="/api/calls/{booked}/recording">' in page
        assert "<audio" not in client.get(f"/dashboard/calls/{missed}", headers=with_session(cookie)).text
        played = client.get(f"/api/calls/{booked}/recording", headers=with_session(cookie))
        assert played.status_code == 200 and played.content == whole.content
