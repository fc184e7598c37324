"""Enters the signed-in user's scope for the length of a request and resets it afterwards."""

import uuid

from . import history, sources
from .scope import Scope, UnscopedReason, enter, leave, unscoped

PLATFORM_PATHS = ("/platform/", "/admin/")


def scope_for_user(user) -> Scope | None:
    if not user.is_authenticated or not user.node_id or not user.is_active:
        return None
    return Scope(county_id=user.county_id, node_id=user.node_id, level=user.node_level)


class ScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex[:12]
        source = history.enter_source(
            sources.for_request(request.method, request.path, request.request_id)
        )
        scope_token = enter(scope_for_user(request.user))
        try:
            if self._is_operator_page(request):
                with unscoped(reason=UnscopedReason.PLATFORM_OPERATOR):
                    return self.get_response(request)
            return self.get_response(request)
        finally:
            leave(scope_token)
            history.leave_source(source)

    @staticmethod
    def _is_operator_page(request) -> bool:
        user = request.user
        return (
            user.is_authenticated
            and user.is_platform_operator
            and request.path.startswith(PLATFORM_PATHS)
        )
