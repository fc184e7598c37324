"""Pages of account security: 我的账号 (the account's API tokens), API 密钥 (county admins),
unlocking a locked-out account from 账号管理."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from .. import permissions, selectors
from ..forms import add_service_errors
from ..views import StaffView
from . import services
from .forms import ApiKeyForm, TokenForm
from .models import ApiKey, ApiToken


class AccountView(LoginRequiredMixin, View):
    template_name = "associations/account.html"

    def render(self, form, *, new_token=None, status=200):
        tokens = ApiToken.objects.filter(user=self.request.user)
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "tokens": tokens,
                "new_token": new_token,
                "token_days": settings.API_TOKEN_DAYS,
            },
            status=status,
        )

    def get(self, request):
        return self.render(TokenForm())

    def post(self, request):
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        token, raw = services.token_create(actor=request.user, label=form.cleaned_data["label"])
        return self.render(TokenForm(), new_token={"token": token, "raw": raw})


class AccountTokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, pk):
        token = get_object_or_404(ApiToken, pk=pk, user=request.user)
        services.token_revoke(actor=request.user, token=token)
        messages.success(request, f"已撤销令牌 {token.prefix}…。")
        return redirect("account")


class ApiKeyListView(StaffView):
    template_name = "associations/api_keys.html"

    def render(self, form, *, new_key=None, status=200):
        keys = ApiKey.objects.select_related("node", "created_by", "revoked_by")
        return render(
            self.request,
            self.template_name,
            {"form": form, "keys": keys, "new_key": new_key},
            status=status,
        )

    def get(self, request):
        permissions.require(permissions.can_manage_users(request.user))
        return self.render(ApiKeyForm())

    def post(self, request):
        permissions.require(permissions.can_manage_users(request.user))
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                key, raw = services.api_key_create(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return self.render(ApiKeyForm(), new_key={"key": key, "raw": raw})
        return self.render(form, status=400)


class ApiKeyRevokeView(StaffView):
    def post(self, request, pk):
        key = get_object_or_404(ApiKey.objects.select_related("node"), pk=pk)
        services.api_key_revoke(actor=request.user, key=key)
        messages.success(request, f"已撤销 API 密钥 {key.prefix}…({key.label})。")
        return redirect("api-keys")


class StaffUnlockView(StaffView):
    def post(self, request, pk):
        # Outside the actor's subtree (another county): 404; inside but not an admin: 403.
        user = get_object_or_404(selectors.staff_list(actor=request.user), pk=pk)
        services.user_unlock(actor=request.user, user=user)
        messages.success(request, f"已解除账号 {user.username} 的登录锁定。")
        return redirect("staff-list")
