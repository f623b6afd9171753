"""`silentpartner serve` as a real process on a free loopback port, for tests that must meet the product
exactly as an operator starts it.

Readiness is the "Uvicorn running on" line the process writes once its socket listens and its lifespan
has started (read from its output as it comes, by a thread that keeps the pipe from filling). Every
output line is kept in `output`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

# Variables a developer's shell may carry that would change what the product under test does.
_OURS = ("CALCOM_", "TWILIO_", "OPENAI_", "BUSINESS", "DATABASE_URL", "PUBLIC_URL", "DASHBOARD_TOKEN", "OWNER_")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def product_env(**values: str) -> dict[str, str]:
    """The environment for a product process: this one's, minus the product's own variables, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(values)
    return env


class ServeProcess:
    """`with ServeProcess(tmp_path, {"PUBLIC_URL": ...}) as serve: httpx.get(serve.url + "/readyz")`.

    `env` is added to `product_env()`; the database defaults to a SQLite file in `cwd`."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = product_env(**{"DATABASE_URL": f"sqlite:///{cwd / 'serve.db'}", **env})
        self.cwd = cwd
        self.output: list[str] = []
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self, within: float = 120) -> ServeProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "silentpartner", "serve", "--port", str(self.port)],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, name=f"serve:{self.port}", daemon=True)
        self._reader.start()
        if not self._ready.wait(within) or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("serve did not start:\n" + "".join(self.output))
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.output.append(line)
            if "Uvicorn running on" in line:
                self._ready.set()
        self._ready.set()  # it exited: let start() see that rather than wait out its timeout

    def lines(self) -> list[str]:
        """What it has written so far."""
        with self._lock:
            return list(self.output)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=30)

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
