"""The app under a real uvicorn on a loopback port."""

from __future__ import annotations

import httpx
from fastapi import Request

from silentpartner.app import create_app
from silentpartner.settings import Settings
from silentpartner.store import Database, migrate
from tests.support.servers import LiveServer


def test_health_and_readiness_through_uvicorn(db_url: str) -> None:
    settings = Settings(database_url=db_url, _env_file=None)  # type: ignore[call-arg]
    with LiveServer(create_app(settings)) as server:
        assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
        ready = httpx.get(server.url + "/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "database": True, "migrations": True}


def test_readyz_is_503_when_the_schema_is_behind(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, _env_file=None)  # type: ignore[call-arg]
    with LiveServer(create_app(settings)) as server:
        import asyncio

        async def downgrade() -> None:
            db = Database(sqlite_url)
            from alembic import command

            config = migrate.alembic_config(sqlite_url)

            def run(conn) -> None:
                config.attributes["connection"] = conn
                command.downgrade(config, "base")

            async with db.engine.begin() as conn:
                await conn.run_sync(run)
            await db.close()

        asyncio.run(downgrade())
        ready = httpx.get(server.url + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["migrations"] is False


def test_oversized_bodies_are_refused(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, max_body_bytes=1024, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    with LiveServer(app) as server:
        assert httpx.post(server.url + "/echo", content=b"z" * 1000).json() == {"size": 1000}
        declared = httpx.post(server.url + "/echo", content=b"x" * 5000)
        assert declared.status_code == 413

        def chunks():
            for _ in range(10):
                yield b"y" * 500

        streamed = httpx.post(server.url + "/echo", content=chunks())  # no Content-Length
        assert streamed.status_code == 413
