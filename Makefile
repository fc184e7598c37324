# 计生协管理平台 — developer commands (GNU make).
#   make run    start everything locally (embedded PostgreSQL, Celery worker, web server)
#   make test   lint + format check + pytest
# Without DATABASE_URL / REDIS_URL the embedded PostgreSQL and the filesystem broker under
# var/ are used; see config/devstack.py and README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
RUFF        := $(VENV)/bin/ruff
STAMP       := $(VENV)/.installed
PYTEST_ARGS ?=

# First interpreter that is Python 3.11 or newer; override with `make PYTHON=/path/to/python3`.
PYTHON ?= $(shell for p in python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.PHONY: help venv run test lint format migrate seed clean phone-check

help:
	@echo "make run      启动本地全套服务 / run web + Celery worker (embedded PostgreSQL under var/)"
	@echo "make test     ruff check + ruff format --check + pytest (PYTEST_ARGS='-k ...')"
	@echo "make lint     ruff check + ruff format --check"
	@echo "make format   ruff check --fix + ruff format"
	@echo "make migrate  manage.py migrate"
	@echo "make seed     manage.py seed_demo (演示数据 / demo county)"
	@echo "make venv     create $(VENV) and install requirements.lock"
	@echo "make clean    remove var/ (embedded database, broker files, media)"
	@echo "make phone-check  手机录入检查 / register a member at 375 px in Chromium (PHONE_URL=http://127.0.0.1:8000)"

venv: $(STAMP)

# Re-run only when requirements.lock changes (or the venv is missing/broken).
$(STAMP): requirements.lock
	@if ! $(PY) -m pip --version >/dev/null 2>&1; then \
		if [ -z "$(PYTHON)" ]; then \
			echo "需要 Python 3.11 或更高版本 / Python 3.11+ is required (python3.11 or python3 on PATH)." >&2; \
			exit 1; \
		fi; \
		echo "creating $(VENV) with $$($(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])')"; \
		$(PYTHON) -m venv --clear $(VENV) || { \
			echo "python -m venv failed; on Debian/Ubuntu: apt-get install python3-venv" >&2; \
			exit 1; }; \
	fi
	$(PY) -m pip install -r requirements.lock
	@touch $@

run: venv
	$(PY) -m config.devstack run

test: venv
	$(RUFF) check .
	$(RUFF) format --check .
	$(PY) -m config.devstack test $(PYTEST_ARGS)

lint: venv
	$(RUFF) check .
	$(RUFF) format --check .

format: venv
	$(RUFF) check --fix .; status=$$?; $(RUFF) format . && exit $$status

migrate: venv
	$(PY) -m config.devstack manage migrate --noinput

seed: venv
	$(PY) -m config.devstack manage seed_demo

# Stops nothing: refuses while the embedded PostgreSQL still runs from var/pgdata.
clean:
	@if [ -f var/pgdata/postmaster.pid ] && kill -0 "$$(head -n1 var/pgdata/postmaster.pid)" 2>/dev/null; then \
		echo "embedded PostgreSQL is running from var/pgdata; stop make run first" \
		     "(or: $(PY) -m config.devstack stop-db)" >&2; \
		exit 1; \
	fi
	rm -rf var

# A village secretary registers a new member on a 375 px phone, measured against the target
# (taps, page loads, KB) by tests/browser/phone_register_member.py; needs a running server
# with the demo data (make run) and the system Chromium. Playwright is installed from
# requirements-browser.txt, not requirements.lock: CI and production never need it.
PHONE_URL  ?= http://127.0.0.1:8000
PHONE_ARGS ?=
BROWSER_STAMP := $(VENV)/.browser-installed

phone-check: venv $(BROWSER_STAMP)
	@test -x /usr/bin/chromium || { \
		echo "需要系统 Chromium / the system Chromium is required: apt-get install -y chromium fonts-wqy-microhei" >&2; \
		exit 1; }
	$(PY) tests/browser/phone_register_member.py $(PHONE_URL) $(PHONE_ARGS)

$(BROWSER_STAMP): requirements-browser.txt
	$(PY) -m pip install -r requirements-browser.txt
	@touch $@
