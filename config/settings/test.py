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

# Encryption at rest: fixed, published keys for tests only (never for real data).
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or {  # noqa: F405
    "k1": "ZGV2LW9ubHkta2V5LTEtbm90LWEtc2VjcmV0LTAwMDA="
}
BLIND_INDEX_KEY = BLIND_INDEX_KEY or "ZGV2LW9ubHktaW5kZXgta2V5LW5vdC1zZWNyZXQtMDA="  # noqa: F405
