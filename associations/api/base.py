"""The base every app's API viewsets build on: it enters the authenticated user's scope
(token clients are authenticated inside DRF, after the middleware has run) and keeps it for
the whole view, so querysets, serializer choices and services all see the same scope."""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied

from ..middleware import scope_for_user
from ..scope import enter, leave
from .schema import ERROR_RESPONSES


class ScopedAPIMixin:
    def initial(self, request, *args, **kwargs):
        # Throttles first (issue 12): DRF checks them after permissions, so a caller without
        # credentials would get its 401s for free; this counts them against the anon rate.
        self.check_throttles(request)
        self._throttles_checked = True
        super().initial(request, *args, **kwargs)
        scope = scope_for_user(request.user)
        if scope is None:
            raise PermissionDenied("此接口只对属于某个组织节点的账号开放。")
        self._scope_token = enter(scope)

    def check_throttles(self, request):
        if not getattr(self, "_throttles_checked", False):  # once per request
            super().check_throttles(request)

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_scope_token", None)
        if token is not None:
            leave(token)
            self._scope_token = None
        return super().finalize_response(request, response, *args, **kwargs)


class ScopedGenericViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    """Subclasses set `queryset` (a scoped manager's queryset) or `get_queryset()` through a
    selector, and `filterset_class` from the app's filters module."""


def error_responses(*codes: int) -> dict:
    """The documented error responses of an endpoint, for `extend_schema(responses=…)`. (Every
    operation gets the ones that apply anyway: .schema.ProjectAutoSchema.)"""
    return {code: ERROR_RESPONSES[code] for code in codes}
