"""The shared cache: with REDIS_URL every web process counts the API throttles in the same
Redis; when Redis cannot be reached a request still answers (reads find nothing, writes are
dropped), so the throttles let calls through uncounted instead of failing them."""

import os

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from config.cache import SharedCache

REDIS_DOWN = {
    "default": {
        "BACKEND": "config.cache.SharedCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


def _shared(prefix: str) -> SharedCache:
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("CI_REQUIRE_SERVICES"):
            pytest.fail("REDIS_URL is not set")
        pytest.skip("needs Redis (REDIS_URL)")
    return SharedCache(url, {"KEY_PREFIX": prefix})


def test_two_processes_caches_see_the_same_counts():
    prefix = f"test-shared-{os.getpid()}"
    one, other = _shared(prefix), _shared(prefix)
    one.set("throttle_user_7", [1.0, 2.0], 30)
    try:
        assert other.get("throttle_user_7") == [1.0, 2.0]
    finally:
        one.delete("throttle_user_7")


@override_settings(CACHES=REDIS_DOWN)
def test_an_unreachable_redis_reads_as_an_empty_cache():
    cache = caches["default"]
    assert cache.get("anything") is None
    assert cache.get("anything", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set("anything", 1, 10) is None
    assert cache.add("anything", 1) is False


@pytest.mark.django_db
def test_with_the_cache_down_the_throttled_api_and_the_member_list_answer(world, client):
    rates = {"token": "10/min", "user": "5/min", "anon": "60/min"}
    api = APIClient()
    api.force_authenticate(world.a.users["county_admin"])
    with override_settings(
        CACHES=REDIS_DOWN,
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates},
    ):
        statuses = {api.get(reverse("api-person-list")).status_code for _ in range(7)}
        client.force_login(world.a.users["county_admin"])
        members = client.get(reverse("member-list"))
    assert statuses == {200}  # over the 5/min rate, but uncounted rather than refused
    assert members.status_code == 200
