"""Server and worker processes for the multi-process tests: real ``haoban serve`` / ``haoban worker``
subprocesses on loopback ports, on the test's own database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
SECRET = "two-process-test-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(db_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HAOBAN_DATABASE_URL": db_url,
        "HAOBAN_SECRET_KEY": SECRET,
        "HAOBAN_DISPATCH_MODEL": "off",
        "HAOBAN_LOG_FORMAT": "text",
        "HAOBAN_JOB_MODULES": "tests.jobs.jobmods",
        # This checkout's code, whatever `haoban` the environment has installed (a shared virtualenv's
        # editable install may point at another checkout).
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        **extra,
    }


class Proc:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "haoban.cli", *args],
            env=env,
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-3000:]

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def end(self, timeout: float = 40.0) -> int:
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()
        finally:
            self._out.close()


class Server(Proc):
    def __init__(
        self, db_url: str, log: Path, *, worker: bool = False, workers: int = 1, **extra: str
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--port", str(self.port), "--workers", str(workers), "--log-level", "warning"]
        super().__init__(args if worker else [*args, "--no-worker"], env_for(db_url, **extra), log)

    def wait_ready(self, timeout: float = 90.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.popen.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.output()}")
            try:
                if httpx.get(self.base + "/api/v1/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.output()}")

    def token(self, username: str, password: str = "demo") -> str:
        r = httpx.post(self.base + "/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


class Worker(Proc):
    def __init__(self, db_url: str, log: Path, **extra: str) -> None:
        super().__init__(["worker"], env_for(db_url, **extra), log)


@contextmanager
def running(*procs: Any) -> Iterator[None]:
    try:
        for p in procs:
            if isinstance(p, Server):
                p.wait_ready()
        yield
    finally:
        for p in procs:
            p.end()
