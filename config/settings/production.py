"""Production: every secret and host comes from the environment; refuses to start without."""

import os

from django.core.exceptions import ImproperlyConfigured

from associations.crypto import check_keys

from .base import *  # noqa: F403
from .base import BLIND_INDEX_KEY, FIELD_ENCRYPTION_KEYS, SECRET_KEY, env_bool

if not SECRET_KEY or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be set to at least 32 random characters.")
# Encryption at rest: the keys come from the environment; a missing or malformed key stops
# the start with the reason (associations/crypto.py).
check_keys(FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY)

DEBUG = False
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- HTTPS: HSTS and redirect (issue 12) ------------------------------------------------------
# On with the secure cookies (SECURE_COOKIES, default true): a deployment served over plain HTTP
# sets SECURE_COOKIES=false and gets neither. The proxy in front says https through
# X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER above).
HTTPS = env_bool("SECURE_COOKIES", True)
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 365 * 24 * 3600)) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS  # subdomains of the app's own host name only
# The directive takes effect only once a domain is submitted to the browsers' preload list,
# which an intranet host never is; it is sent so that check --deploy stays clean.
SECURE_HSTS_PRELOAD = HTTPS
