"""A real Celery worker for the tests that need one: a separate process on the configured
broker, consuming a queue of its own (never one a developer's worker picks up), connected to
this test's database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection


def database_url_for_this_test_database() -> str:
    s = connection.settings_dict
    host = s["HOST"] or "localhost"
    if host.startswith("/"):
        host = host.replace("/", "%2F")
    port = f":{s['PORT']}" if s["PORT"] else ""
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{host}{port}/{s['NAME']}"


def new_queue() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def start_worker(queue: str, *, media: Path | None = None, quiet: bool = False) -> subprocess.Popen:
    """`quiet` throws the worker's output away (a test that kills it reads nothing back);
    otherwise `communicate()` returns it, for the assertion messages."""
    for folder in ("queue", "processed", "control", "results"):
        (settings.CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_this_test_database(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "VAR_DIR": str(settings.VAR_DIR),
    }
    if media is not None:
        env["MEDIA_ROOT"] = str(media)
    output = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"),
            *("--without-heartbeat", "--without-gossip", "--without-mingle"),
            *("-Q", queue, "--loglevel=WARNING"),
        ],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if not quiet else subprocess.DEVNULL,
        text=True,
    )
