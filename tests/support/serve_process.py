"""`silentpartner serve` as a real process, for tests that must stop it the hard way (kill -9).

Its output is read by a thread the whole time (a full pipe would stall the server) and kept for the
failure message; `start()` returns once uvicorn says it is listening, which it says after the app's
lifespan has started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

READY_LINE = "Uvicorn running on"


class ServeProcess:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = {**os.environ, **env}
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.output: list[str] = []
        self._ready = threading.Event()
        self._process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServeProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "silentpartner", "serve", "--port", str(self.port)],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, name=f"serve:{self.port}", daemon=True).start()
        if not self._ready.wait(timeout) or self._process.poll() is not None:
            self.terminate()
            raise AssertionError("serve did not start:\n" + self.log())
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)
            if READY_LINE in line:
                self._ready.set()
        self._ready.set()  # it exited: start() reports it

    def kill(self) -> None:
        """SIGKILL: no lifespan shutdown, no finally blocks, the sockets just drop."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=30)

    def terminate(self) -> int | None:
        if self._process is None or self._process.poll() is not None:
            return self._process.returncode if self._process else None
        self._process.terminate()
        return self._process.wait(timeout=30)

    def log(self) -> str:
        return "".join(self.output[-60:])

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.terminate()
