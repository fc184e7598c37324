"""DRF throttles. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], read at each
request (so a test or a settings change takes effect without re-importing the classes)."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRate(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # The rate may have changed since __init__ parsed it.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class AnonThrottle(_SettingsRate):
    """Calls without credentials, per client address."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(_SettingsRate):
    """Authenticated calls, per account (or per API key)."""

    scope = "user"

    def get_cache_key(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return None
        key = getattr(user, "api_key", None)
        ident = f"key{key.pk}" if key is not None else user.pk
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenEndpointThrottle(_SettingsRate):
    """The token endpoint (username and password in exchange for a token), per address."""

    scope = "token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
