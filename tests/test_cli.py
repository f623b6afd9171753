"""The `silentpartner` command, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from silentpartner.store import migrate


def run(*args: str, env: dict[str, str] | None = None, cwd=None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "silentpartner", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "db", "doctor"):
        assert command in result.stdout


def test_doctor_is_clean_on_the_demo_business(tmp_path) -> None:
    result = run("doctor", cwd=tmp_path, env={"DATABASE_URL": f"sqlite:///{tmp_path}/d.db"})
    assert result.returncode == 0, result.stderr
    assert "0 problem(s)" in result.stdout
    assert "FAIL" not in result.stdout
    assert "mikes-plumbing" in result.stdout
    assert "offline speech" in result.stdout and "end-of-turn model" in result.stdout


def test_doctor_names_the_broken_field_and_fails(tmp_path) -> None:
    broken = tmp_path / "businesses.toml"
    broken.write_text(
        textwrap.dedent("""\
        [[business]]
        slug = "acme"
        name = "Acme"
        timezone = "Nowhere/Special"
        numbers = ["+12125550100"]
        owner_mobile = "+12125550199"
        [business.hours]
        mon = "08:00-17:00"
        [[business.services]]
        slug = "visit"
        name = "visit"
        duration_minutes = 30
        """)
    )
    result = run("doctor", cwd=tmp_path, env={"BUSINESSES_FILE": str(broken)})
    assert result.returncode != 0
    assert f"{broken}:4: business.0.timezone" in result.stderr


def test_doctor_flags_a_service_nobody_offers(tmp_path) -> None:
    path = tmp_path / "businesses.toml"
    path.write_text(
        textwrap.dedent("""\
        [[business]]
        slug = "acme"
        name = "Acme"
        timezone = "America/New_York"
        numbers = ["+12125550100"]
        owner_mobile = "+12125550199"
        [business.hours]
        mon = "08:00-17:00"
        [[business.services]]
        slug = "visit"
        name = "visit"
        duration_minutes = 30
        [[business.services]]
        slug = "survey"
        name = "survey"
        duration_minutes = 30
        [[business.team]]
        name = "Al"
        services = ["visit"]
        """)
    )
    result = run(
        "doctor", cwd=tmp_path, env={"BUSINESSES_FILE": str(path), "DATABASE_URL": f"sqlite:///{tmp_path}/d.db"}
    )
    assert result.returncode == 1
    assert "service survey: no team member offers it" in result.stdout


def test_db_upgrade(tmp_path) -> None:
    result = run("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.returncode == 0, result.stderr
    assert f"database at revision {migrate.head_revision()}\n" == result.stdout


def test_a_bad_setting_stops_the_command_with_one_line(tmp_path) -> None:
    result = run("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": "oracle://x"})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: DATABASE_URL:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_starts_on_the_embedded_defaults_and_caps_websocket_frames(tmp_path) -> None:
    """The README's start command: `silentpartner serve` comes up ready on the demo business with no keys,
    and refuses a huge websocket frame at the protocol level (1009) before buffering it."""
    import asyncio
    import socket

    import httpx
    import websockets

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db"}
    server = subprocess.Popen(
        [sys.executable, "-m", "silentpartner", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # uvicorn prints this line once the socket is listening and the lifespan has started.
        for line in server.stdout:
            if "Uvicorn running on" in line:
                break
        else:
            raise AssertionError("serve exited before it was ready")
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"

        async def oversized_frame() -> int | None:
            async with websockets.connect(f"ws://127.0.0.1:{port}/twilio/media", max_size=None) as ws:
                await ws.send("x" * 200_000)
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except websockets.ConnectionClosed as closed:
                    return closed.rcvd.code if closed.rcvd else None
            return None

        assert asyncio.run(oversized_frame()) == 1009
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_doctor_fails_when_recorded_calls_could_not_be_kept(tmp_path) -> None:
    from tests.support.recorded_calls import recording_business_file

    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/d.db", "BUSINESSES_FILE": str(recording_business_file(tmp_path))}
    kept = run("doctor", cwd=tmp_path, env={**env, "RECORDINGS_DIR": str(tmp_path / "rec")})
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert f"call recordings: mikes-plumbing: kept in {tmp_path / 'rec'}" in kept.stdout
    (tmp_path / "not-a-folder").write_text("")
    lost = run("doctor", cwd=tmp_path, env={**env, "RECORDINGS_DIR": str(tmp_path / "not-a-folder")})
    assert lost.returncode != 0
    assert "RECORDINGS_DIR: cannot write in" in lost.stdout and "would go unrecorded" in lost.stdout
