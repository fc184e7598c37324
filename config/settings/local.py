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
