"""The container files agree with each other: no secret or database in the build context, every service
restarts, and a SQLite database lives on a volume (not in the container's own layer, lost on rebuild)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _sqlite_folder(url: str) -> str:
    match = re.fullmatch(r"sqlite\+aiosqlite:///(/.+)/[^/]+\.db", url)
    assert match, f"not an absolute SQLite URL: {url}"
    return match.group(1)


def test_the_build_context_leaves_out_secrets_databases_and_virtualenvs() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", "*.db", ".venv", ".git"} <= ignored


def test_compose_restarts_every_service_and_keeps_sqlite_on_a_volume() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {name: s.get("restart") for name, s in services.items()} == dict.fromkeys(services, "unless-stopped")
    sqlite = [s for s in services.values() if s["environment"].get("DATABASE_URL", "").startswith("sqlite")]
    assert len(sqlite) == 1
    folder = _sqlite_folder(sqlite[0]["environment"]["DATABASE_URL"])
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in sqlite[0]["volumes"]}
    assert mounts.get(folder) in compose["volumes"]


def test_the_images_default_database_is_in_its_volume() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    url = re.search(r"^ENV DATABASE_URL=(\S+)$", dockerfile, re.MULTILINE)
    volume = re.search(r'^VOLUME \["([^"]+)"\]$', dockerfile, re.MULTILINE)
    assert url and volume and _sqlite_folder(url.group(1)) == volume.group(1)


def test_the_scale_profile_puts_caddy_round_robin_in_front_of_every_app_replica() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    proxy = compose["services"]["proxy"]
    assert proxy["profiles"] == ["scale"]
    (mount,) = proxy["volumes"]
    source, target = mount.split(":")[:2]
    assert target == "/etc/caddy/Caddyfile"
    caddyfile = (ROOT / source).read_text()
    # The replicas are found by the service's name, on the port the app listens on in its container.
    assert re.search(r"dynamic a \{\s*name app\s*port 8000\b", caddyfile)
    assert "lb_policy round_robin" in caddyfile
    # Scaling `app` must not make its replicas fight over one host port.
    assert compose["services"]["app"]["ports"] == ["${APP_PUBLISH:-8000:8000}"]
