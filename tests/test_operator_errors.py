"""A new user's and an operator's mistakes, met by running the command as a process: each ends with one
line on stderr naming the problem and the fix, and a non-zero exit; never a traceback. And what
`doctor` says about a deployment that would fail (or silently do the wrong thing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.databases import PG_HOST, PG_PORT, postgres_unavailable_reason
from tests.support.serve_runner import ServeProcess, free_port, product_env

CALCOM_BUSINESS = """
[[business]]
slug = "acme"
name = "Acme Plumbing"
timezone = "America/Denver"
numbers = ["+13035550100"]
owner_mobile = "+13035550199"
calendar = "calcom"

[business.hours]
mon = ["08:00-17:00"]

[[business.services]]
slug = "service-call"
name = "service call"
duration_minutes = 60
calcom_event_type_id = 5
"""


def silentpartner(*args: str, cwd: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "silentpartner", *args],
        env=product_env(**env),
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def without_asyncpg(tmp_path: Path) -> str:
    """A directory that, first on PYTHONPATH, makes `import asyncpg` fail as it does without the extra."""
    shadow = tmp_path / "no-postgres-extra" / "asyncpg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'asyncpg'\", name='asyncpg')\n")
    return str(shadow.parent)


def test_a_postgresql_url_without_the_postgres_extra(tmp_path: Path) -> None:
    done = silentpartner(
        "serve",
        "--port",
        str(free_port()),
        cwd=tmp_path,
        DATABASE_URL="postgresql://app@127.0.0.1:5432/app",
        PYTHONPATH=without_asyncpg(tmp_path),
    )
    line = one_error_line(done)
    assert "driver (asyncpg) is not installed" in line and "pip install 'silentpartner[postgres]'" in line


def test_a_refused_postgresql_port(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    line = one_error_line(
        silentpartner("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"postgresql://app:secret@127.0.0.1:{port}/app")
    )
    assert f"nothing answers at 127.0.0.1:{port} (connection refused)" in line and "secret" not in line


@pytest.mark.postgres
def test_wrong_postgresql_credentials(tmp_path: Path) -> None:
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    url = f"postgresql://no_such_role:hunter2@{PG_HOST}:{PG_PORT}/test"
    line = one_error_line(silentpartner("serve", "--port", str(free_port()), cwd=tmp_path, DATABASE_URL=url))
    assert "refused user 'no_such_role': check the user and password" in line and "hunter2" not in line


def test_an_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    line = one_error_line(
        silentpartner("serve", "--port", str(free_port()), cwd=tmp_path, DATABASE_URL="sqlite:///nowhere/sp.db")
    )
    assert "cannot open the SQLite file nowhere/sp.db: its folder nowhere does not exist" in line


def test_simulate_with_a_database_that_is_not_a_url(tmp_path: Path) -> None:
    line = one_error_line(silentpartner("simulate", "--db", "foo", cwd=tmp_path, stdin="hello\n"))
    assert "'foo' is not a database URL" in line and "postgresql://" in line


def test_serve_with_a_calcom_business_but_no_key(tmp_path: Path) -> None:
    (tmp_path / "businesses.toml").write_text(CALCOM_BUSINESS)
    line = one_error_line(
        silentpartner(
            "serve", "--port", str(free_port()), cwd=tmp_path, BUSINESSES_FILE=str(tmp_path / "businesses.toml")
        )
    )
    assert line.startswith("error: CALCOM_API_KEY: business acme uses Cal.com but the key is not set")


# -- the businesses file ------------------------------------------------------------------------------


def test_a_businesses_file_error_is_one_line_per_real_error_with_the_right_fix(tmp_path: Path) -> None:
    path = tmp_path / "businesses.toml"
    path.write_text(CALCOM_BUSINESS.replace('calendar = "calcom"', "").replace('"+13035550100"', '"555-0100"'))
    line = one_error_line(silentpartner("doctor", cwd=tmp_path, BUSINESSES_FILE=str(path)))
    assert line == (
        f"error: {path}:6: business.0.numbers: '555-0100' has no area code; "
        "write the whole number in E.164 form, like +15035550100"
    )
    path.write_text(CALCOM_BUSINESS.replace('"+13035550100"', '"303-555-0100"').replace('"+13035550199"', '"555-0199"'))
    done = silentpartner("doctor", cwd=tmp_path, BUSINESSES_FILE=str(path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {path}:6: business.0.numbers: '303-555-0100' is not in E.164 form; write it as +13035550100",
        f"{path}:7: business.0.owner_mobile: '555-0199' has no area code; "
        "write the whole number in E.164 form, like +15035550100",
    ]


# -- doctor ---------------------------------------------------------------------------------------------


def doctor(tmp_path: Path, **env: str) -> tuple[int, list[str]]:
    done = silentpartner("doctor", cwd=tmp_path, **{"DATABASE_URL": f"sqlite:///{tmp_path}/d.db", **env})
    assert done.stderr == "", done.stderr
    return done.returncode, done.stdout.splitlines()


def test_doctor_fails_a_public_url_without_a_twilio_token(tmp_path: Path) -> None:
    code, lines = doctor(tmp_path, PUBLIC_URL="https://sp.example.com")
    assert code == 1
    assert any(
        line.startswith("[FAIL] TWILIO_AUTH_TOKEN: not set while PUBLIC_URL is https://sp.example.com")
        for line in lines
    )
    code, lines = doctor(tmp_path, PUBLIC_URL="https://sp.example.com", TWILIO_AUTH_TOKEN="tok")
    assert "[ok  ] Twilio signing: every Twilio webhook must carry a valid X-Twilio-Signature" in lines
    code, lines = doctor(tmp_path, TWILIO_ALLOW_UNSIGNED="true")
    assert code == 0 and any(line.startswith("[warn] TWILIO_ALLOW_UNSIGNED:") for line in lines)


def test_doctor_warns_about_what_the_quick_start_silently_assumes(tmp_path: Path) -> None:
    quick = {"BUSINESS_NAME": "Rocky Plumbing", "BUSINESS_NUMBER": "+13035550100", "OWNER_MOBILE": "+13035550199"}
    code, lines = doctor(tmp_path, **quick, CALCOM_API_KEY="cal_key", CALCOM_WEBHOOK_SECRET="whsec")
    assert code == 0
    assert any(
        line.startswith("[warn] BUSINESS_TIMEZONE: not set: Rocky Plumbing keeps America/Los_Angeles hours")
        and "(a +13035550100 number is in America/Denver)" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("[warn] CALCOM_EVENT_TYPE_ID: not set: Rocky Plumbing books on the embedded calendar")
        for line in lines
    ), lines
    code, lines = doctor(tmp_path, **quick, BUSINESS_TIMEZONE="America/Denver")
    assert not any(line.startswith(("[warn] BUSINESS_TIMEZONE", "[warn] CALCOM_EVENT_TYPE_ID")) for line in lines)


def test_doctor_checks_the_database(tmp_path: Path) -> None:
    code, lines = doctor(tmp_path)
    assert code == 0
    assert any(
        line.startswith("[warn] database: SQLite reachable but empty: `silentpartner db upgrade`") for line in lines
    )
    assert silentpartner("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/d.db").returncode == 0
    code, lines = doctor(tmp_path)
    assert code == 0 and any(line.startswith("[ok  ] database: SQLite reachable, schema at revision") for line in lines)
    port = free_port()
    code, lines = doctor(tmp_path, DATABASE_URL=f"postgresql://app@127.0.0.1:{port}/app")
    assert code == 1
    assert (
        f"[FAIL] database: database: nothing answers at 127.0.0.1:{port} (connection refused): "
        "start PostgreSQL or fix the URL" in lines
    )
    code, lines = doctor(tmp_path, DATABASE_URL="postgresql://app@127.0.0.1/app", PYTHONPATH=without_asyncpg(tmp_path))
    assert code == 1 and any("pip install 'silentpartner[postgres]'" in line for line in lines)


# -- serve's log ------------------------------------------------------------------------------------------


def test_serve_logs_each_request_as_masked_json_and_keeps_health_probes_quiet(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, {}) as serve:
        for _ in range(3):
            assert httpx.get(serve.url + "/readyz").status_code == 200
        assert (
            httpx.post(serve.url + "/twilio/voice?From=%2B15035551234", data={"From": "+15035551234"}).status_code
            == 403
        )
        started = len(serve.lines())
    after_start = serve.output[next(i for i, line in enumerate(serve.output) if "Uvicorn running on" in line) + 1 :]
    entries = [json.loads(line) for line in after_start]  # every line is JSON, uvicorn's own too
    assert not [e for e in entries if e["logger"].startswith("alembic")]  # probes no longer write migration lines
    requests = [e for e in entries if e["event"] == "http.request"]
    assert [(e["method"], e["path"], e["status"]) for e in requests] == [("POST", "/twilio/voice?From=***1234", 403)]
    assert "5551234" not in "".join(serve.output[: started + 1])
