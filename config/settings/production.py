"""Production: every secret and host comes from the environment; refuses to start without."""

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
