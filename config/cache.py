"""The shared cache (Redis) that never takes a request down with it: the API throttles count in
it and the member list keeps a recent ratio there, and an unreachable Redis must cost neither
an answer. A read then finds nothing and a write is dropped (logged), as an empty cache would
behave."""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _forgiving(default_of):
    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except (RedisError, OSError) as error:
                logger.warning("cache unavailable (%s): %s", method.__name__, error)
                return default_of(args, kwargs)

        return call

    return wrap


def _default(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


class SharedCache(RedisCache):
    get = _forgiving(_default)(RedisCache.get)
    get_many = _forgiving(lambda args, kwargs: {})(RedisCache.get_many)
    has_key = _forgiving(lambda args, kwargs: False)(RedisCache.has_key)
    set = _forgiving(lambda args, kwargs: None)(RedisCache.set)
    set_many = _forgiving(lambda args, kwargs: list(args[0]) if args else [])(RedisCache.set_many)
    add = _forgiving(lambda args, kwargs: False)(RedisCache.add)
    touch = _forgiving(lambda args, kwargs: False)(RedisCache.touch)
    delete = _forgiving(lambda args, kwargs: False)(RedisCache.delete)
    delete_many = _forgiving(lambda args, kwargs: None)(RedisCache.delete_many)
