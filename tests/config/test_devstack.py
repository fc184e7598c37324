"""`make run`'s launcher: what it prints once everything has started (the address and the demo
accounts last), how quiet it asks the worker to be, and what Ctrl-C says. Starting the real
processes is checked by hand (see the README); these are the parts that need none."""

from __future__ import annotations

import signal

import pytest
from django.core.management import call_command

from associations.demo import DEMO_COUNTY_CODE, DEMO_PASSWORD, demo_accounts
from associations.models import Association
from config import devstack

URL = "http://127.0.0.1:8105/"


def test_the_banner_ends_with_the_address_and_the_accounts():
    accounts = ["演示账号(用户名 / 角色 / 密码 / 所属组织):", "  county_admin   县级管理员"]
    banner = devstack.ready_banner(url=URL, accounts=accounts, worker="Celery worker 已就绪")
    lines = banner.rstrip("\n").splitlines()
    assert lines[-3] == f"  计生协管理平台已启动 / running:  {URL}"
    assert lines[-2:] == [
        "  演示账号(用户名 / 角色 / 密码 / 所属组织):",
        "    county_admin   县级管理员",
    ]
    assert "Ctrl-C" in banner and "Celery worker 已就绪" in banner
    assert banner.index("Ctrl-C") < banner.index(URL)


def test_without_accounts_the_banner_says_where_to_find_them():
    banner = devstack.ready_banner(url=URL, accounts=[], worker="Celery worker 已就绪")
    assert banner.rstrip("\n").splitlines()[-1].startswith("  演示账号:运行 `make seed`")


@pytest.mark.django_db
def test_seed_demos_account_table_is_found_in_its_output(capsys):
    call_command("seed_demo", county="131127", name="景县", without_people=True)
    summary, accounts = devstack.split_accounts(capsys.readouterr().out)
    assert "已建立 131127 景县" in summary and "county_admin" not in summary
    assert accounts[0].startswith(devstack.ACCOUNTS_HEADING)
    county = Association(division_code="131127")
    for username, _role, _password in demo_accounts(county):
        assert any(username in line for line in accounts)
    assert all(DEMO_PASSWORD in line for line in accounts[1:])


def test_output_without_an_account_table_is_all_summary():
    assert devstack.split_accounts("130534 清河县 已存在\n") == ("130534 清河县 已存在", [])


def test_the_worker_check_uses_seed_demos_county():
    assert devstack.DEMO_COUNTY_CODE == DEMO_COUNTY_CODE


def test_the_worker_is_asked_to_be_quiet(monkeypatch):
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    command = devstack.worker_command()
    assert command.index("--quiet") < command.index("worker")  # a global option of celery
    assert {"--loglevel=WARNING", "--without-mingle", "--without-gossip"} <= set(command)
    assert "--beat" in command  # the stale-job sweep and the purge run under make run too
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    assert "--loglevel=INFO" in devstack.worker_command()


def test_only_the_known_harmless_warnings_are_silenced():
    env = devstack.worker_env({"PYTHONWARNINGS": "error::DeprecationWarning"})
    assert env["PYTHONWARNINGS"] == (
        "error::DeprecationWarning,ignore:You're running the worker with superuser privileges"
    )
    assert devstack.runserver_env({})["DJANGO_RUNSERVER_HIDE_WARNING"] == "true"


def test_ctrl_c_says_that_it_is_stopping_and_what():
    notice = devstack.stop_notice("收到 Ctrl-C", [devstack.WEB, devstack.WORKER, "内嵌 PostgreSQL"])
    assert notice == (
        "收到 Ctrl-C,正在停止…… / stopping: web 服务器、Celery worker、内嵌 PostgreSQL"
    )
    assert devstack.stop_notice("收到 Ctrl-C", []) == "收到 Ctrl-C,正在退出…… / exiting"


def test_stopping_says_what_stopped(capsys, monkeypatch):
    killed = []
    monkeypatch.setattr(devstack.os, "killpg", lambda pgid, sig: killed.append(pgid))

    class Exited:
        pid = -1  # never a real process group: killpg is replaced above anyway

        def poll(self):
            return 0

        def wait(self, timeout=None):
            return 0

    class Running(Exited):
        def __init__(self):
            self.done = False

        def poll(self):
            return 0 if self.done else None

        def terminate(self):
            self.done = True

    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        devstack._stop_children({devstack.WEB: Running(), devstack.WORKER: Exited()})
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    err = capsys.readouterr().err
    assert "正在停止 web 服务器" in err and "已停止 web 服务器" in err
    assert "Celery worker" not in err  # it had already exited: nothing to stop
    assert killed == [-1, -1]  # the sweep of leftover pool processes, group by group
