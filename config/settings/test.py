"""pytest-django. Same PostgreSQL engine as production; only speed-ups that do not change
behaviour (fast password hashing, plain static storage)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-a-secret")

from .base import *  # noqa: F403

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Unit tests run tasks in-process; the real worker is exercised by tests marked `worker`.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Static files come from the finders: no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# 404s and 403s are what the isolation suite expects thousands of times; keep the log quiet.
LOGGING["loggers"] = {"django.request": {"level": "ERROR"}}  # noqa: F405
# Account security (issue 12): the lockout and throttles are switched on by the tests that
# exercise them (tests/associations/test_accounts_security.py); elsewhere logins and API calls
# are neither locked out nor throttled.
AXES_ENABLED = False
LOGGING["loggers"]["axes"] = {"level": "ERROR"}  # noqa: F405
REST_FRAMEWORK = {  # a copy: base.REST_FRAMEWORK keeps the real rates
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"token": "100000/min", "user": "1000000/min", "anon": "100000/min"},
}
# All-counties database role (issue 12): tests run unscoped work on the default connection
# (the CI role is in jsx_all_counties); tests/associations/test_all_counties.py adds the alias.
DATABASES.pop("all_counties", None)  # noqa: F405

# Encryption at rest: fixed, published keys for tests only (never for real data).
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or {  # noqa: F405
    "k1": "ZGV2LW9ubHkta2V5LTEtbm90LWEtc2VjcmV0LTAwMDA="
}
BLIND_INDEX_KEY = BLIND_INDEX_KEY or "ZGV2LW9ubHktaW5kZXgta2V5LW5vdC1zZWNyZXQtMDA="  # noqa: F405

# Each test process keeps its own cache (tests/conftest.py clears it for every test; clearing a
# shared Redis would empty the broker's database too). tests/config/test_cache.py checks the
# shared cache of the other settings.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
