"""For `manage.py benchmark_lists`: gunicorn serving config.benchmark_wsgi on a loopback port,
and a load generator of concurrent clients (one thread, asyncio; HTTP/1.1, Connection: close,
as gunicorn's sync workers answer)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FLOOR_PREFIX = "__benchmark_floor__/"  # config.benchmark_wsgi's floor endpoints
ENABLE_VARIABLE = "JSX_BENCHMARK_FLOOR"  # without it config.benchmark_wsgi refuses to load


class ServerFailed(RuntimeError):
    """gunicorn did not start serving; the message carries the end of its log."""


@dataclass
class Throughput:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # ms, successful requests only

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, other: Throughput) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies += other.latencies


@contextlib.contextmanager
def loopback_gunicorn(*, workers: int, environment: dict, cwd) -> Iterator[int]:
    """gunicorn (sync workers) serving config.benchmark_wsgi on a free 127.0.0.1 port, with
    `environment` plus the floor's switch; yields the port and stops gunicorn on the way out."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.benchmark_wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    with tempfile.TemporaryDirectory(prefix="benchmark-lists-") as folder:
        log = Path(folder) / "gunicorn.log"
        with open(log, "wb") as output:
            server = subprocess.Popen(
                command,
                cwd=cwd,
                env={**environment, ENABLE_VARIABLE: "1"},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_serving(server, port, log)
            yield port
        finally:
            _stop(server)


def run_load(port: int, path: str, cookie: str, *, clients: int, requests: int, seconds: float):
    """`clients` concurrent clients GET `path` until `requests` are sent or `seconds` pass."""
    return asyncio.run(_load(port, path, cookie, clients, requests, seconds))


def _wait_until_serving(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServerFailed(f"gunicorn 启动失败:\n{log.read_text()[-3000:]}")
        try:
            # Unauthenticated, the floor endpoint answers 401 once the app is loaded.
            status, _ = asyncio.run(_fetch(port, f"/{FLOOR_PREFIX}members/", ""))
        except OSError:
            time.sleep(0.3)
            continue
        if status == 401:
            return
        raise ServerFailed(f"gunicorn 对底线地址返回 HTTP {status}:\n{log.read_text()[-3000:]}")
    raise ServerFailed("gunicorn 60 秒内没有开始服务。")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _fetch(port: int, path: str, cookie: str) -> tuple[int, float]:
    began = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
        f"Cookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    status = int(response.split(b" ", 2)[1]) if response else 0
    return status, (time.perf_counter() - began) * 1000


async def _load(port, path, cookie, clients: int, max_requests: int, seconds: float) -> Throughput:
    result = Throughput()
    deadline = time.perf_counter() + seconds
    left = [max_requests]

    async def client():
        while left[0] > 0 and time.perf_counter() < deadline:
            left[0] -= 1
            status, elapsed = await _fetch(port, path, cookie)
            if status == 200:
                result.requests += 1
                result.latencies.append(elapsed)
            else:
                result.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result
