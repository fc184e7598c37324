"""Login lockout with django-axes: after AXES_FAILURE_LIMIT failures of one username from one
address, that pair is refused for AXES_COOLOFF_TIME. The login page says so in Chinese (429);
county admins see who is locked on 账号管理 and can unlock them (services.user_unlock)."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

LOCKED_STATUS = 429


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return (
        f"登录失败次数过多,该账号已在本机暂时锁定 {lockout_minutes()} 分钟。"
        "请稍后再试,或联系县级管理员解除锁定。"
    )


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the login page again, with the reason, and status 429 (the
    API's token endpoint: its error body)."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": lockout_message()}}
        return JsonResponse(body, status=LOCKED_STATUS)
    form = AuthenticationForm(request)
    form.errors  # noqa: B018  (an unbound form: no field errors, only ours)
    return render(
        request,
        "registration/login.html",
        {"form": form, "locked_message": lockout_message(), "next": request.POST.get("next", "")},
        status=LOCKED_STATUS,
    )


def is_locked(request, username: str) -> bool:
    if not settings.AXES_ENABLED:
        return False
    return AxesProxyHandler.is_locked(request, {"username": username})


def locked_usernames(usernames) -> set[str]:
    """Which of these usernames are locked out from at least one address now."""
    if not settings.AXES_ENABLED:
        return set()
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            username__in=list(usernames),
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=since,
        ).values_list("username", flat=True)
    )
