"""Developer machine: `make run`. DEBUG on, a throwaway secret key is acceptable."""

import os

os.environ.setdefault("SECRET_KEY", "local-development-only-not-a-secret")

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = os.environ["SECRET_KEY"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Encryption at rest: fixed, published keys for local development only (never for real data).
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or {  # noqa: F405
    "k1": "ZGV2LW9ubHkta2V5LTEtbm90LWEtc2VjcmV0LTAwMDA="
}
BLIND_INDEX_KEY = BLIND_INDEX_KEY or "ZGV2LW9ubHktaW5kZXgta2V5LW5vdC1zZWNyZXQtMDA="  # noqa: F405
