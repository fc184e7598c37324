"""Pages of payees' bank accounts, reached from a person's page: the person's accounts and the
enrolments paid to them, adding and deactivating an account, one account's detail (the one
page with the full number, for the roles households.masking allows, each display recorded),
and choosing the account an enrolment is paid to."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from associations.permissions import require
from associations.views import ServiceFormView, StaffView
from households import identity_reads, masking
from households.models import IdentityRead
from households.selectors import person_get
from households.views import place_crumbs

from . import payments_accounts as services
from . import payments_selectors as selectors
from .payments_forms import BankAccountForm, PayeeForm
from .permissions import can_keep_accounts


def account_label(user, account) -> str:
    """ "中国农业银行 ***************0123(张三)": the number masked, as everywhere."""
    number = masking.bank_account_for(user, account.account_number)
    return f"{account.bank_name} {number}({account.person.name})"


class PersonAccountsView(StaffView):
    def get(self, request, pk):
        user = request.user
        person = person_get(actor=user, pk=pk)
        accounts = selectors.person_accounts(actor=user, person=person)
        for account in accounts:
            account.shown_number = masking.bank_account_for(user, account.account_number)
        enrollments = selectors.person_enrollments(actor=user, person=person)
        can_keep = can_keep_accounts(user, person.placed_at())
        for enrollment in enrollments:
            account = enrollment.bank_account
            enrollment.payee = account_label(user, account) if account else ""
            enrollment.can_set = can_keep_accounts(user, enrollment.placed_at())
        return render(
            request,
            "benefits/payments/person_accounts.html",
            {
                "person": person,
                "breadcrumbs": place_crumbs(person),
                "accounts": accounts,
                "enrollments": enrollments,
                "can_keep": can_keep,
            },
        )


class AccountCreateView(ServiceFormView):
    template_name = "benefits/payments/form.html"

    def load(self, pk):
        self.person = person_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return can_keep_accounts(self.request.user, self.person.placed_at())

    def build_form(self, data=None):
        return BankAccountForm(data)

    def perform(self, form):
        data = form.cleaned_data
        account = services.bank_account_add(
            actor=self.request.user,
            person=self.person,
            bank_name=data["bank_name"],
            account_number=data["account_number"],
            form_token=data.get("form_token"),
        )
        if getattr(account, "replayed", False):
            messages.info(self.request, "这张表单已经提交过,账户已登记,没有重复登记。")
        else:
            messages.success(self.request, f"已为{self.person.name}登记收款账户。")
        return redirect("person-bank-accounts", pk=self.person.pk)

    def context(self):
        return {
            "breadcrumbs": place_crumbs(self.person),
            "title": f"登记收款账户:{self.person.name}",
            "intro": "户名即此人。银行账号加密保存,除本账户详情页外一律只显示末四位。",
            "cancel_url": reverse("person-bank-accounts", kwargs={"pk": self.person.pk}),
        }


@method_decorator(never_cache, name="dispatch")
class AccountDetailView(StaffView):
    def get(self, request, pk):
        user = request.user
        account = selectors.account_get(actor=user, pk=pk)
        shown = masking.bank_account_for(user, account.account_number, detail=True)
        full = masking.shows_full(user, detail=True)
        if full:
            identity_reads.record_read(
                actor=user,
                persons=[account.person],
                fields=["bank_account"],
                reason=IdentityRead.Reason.DETAIL_PAGE,
                request=request,
            )
        return render(
            request,
            "benefits/payments/account_detail.html",
            {
                "account": account,
                "person": account.person,
                "breadcrumbs": place_crumbs(account.person),
                "shown_number": shown,
                "full": full,
                "can_keep": can_keep_accounts(user, account.placed_at()),
            },
        )


class AccountDeactivateView(StaffView):
    def post(self, request, pk):
        account = selectors.account_get(actor=request.user, pk=pk)
        require(can_keep_accounts(request.user, account.placed_at()))
        try:
            services.bank_account_deactivate(actor=request.user, account=account)
        except ValidationError as error:
            messages.error(request, ";".join(error.messages))
        else:
            messages.success(request, "已停用该收款账户;以后的发放不再使用它。")
        return redirect("person-bank-accounts", pk=account.person_id)


class PayeeView(ServiceFormView):
    template_name = "benefits/payments/form.html"

    def load(self, pk):
        self.enrollment = selectors.enrollment_get(actor=self.request.user, pk=pk)
        self.person = self.enrollment.person or self.enrollment.household.head

    def check_permission(self):
        return can_keep_accounts(self.request.user, self.enrollment.placed_at())

    def build_form(self, data=None):
        accounts = list(services.payee_accounts(self.enrollment))
        for account in accounts:
            account.label = account_label(self.request.user, account)
        initial = {"account": str(self.enrollment.bank_account_id or "")}
        return PayeeForm(data, accounts=accounts, initial=initial)

    def perform(self, form):
        services.enrollment_set_account(
            actor=self.request.user,
            enrollment=self.enrollment,
            account=form.cleaned_data["account"],
        )
        messages.success(self.request, "已设置收款账户,之后确认的发放批次按此账户代发。")
        return redirect(self.back_url())

    def back_url(self) -> str:
        if self.person is not None:
            return reverse("person-bank-accounts", kwargs={"pk": self.person.pk})
        return reverse("household-detail", kwargs={"pk": self.enrollment.household_id})

    def context(self):
        enrollment = self.enrollment
        who = self.person.name if self.person else f"{enrollment.household.number}户"
        return {
            "breadcrumbs": enrollment.village.lineage(),
            "title": f"设置收款账户:{who} · {enrollment.program.name}",
            "intro": "可选扶助对象本人或其家庭户成员的有效账户;没有账户的先在人员页面登记。",
            "cancel_url": self.back_url(),
        }


urlpatterns = [
    path(
        "benefits/people/<int:pk>/accounts/",
        PersonAccountsView.as_view(),
        name="person-bank-accounts",
    ),
    path(
        "benefits/people/<int:pk>/accounts/new/",
        AccountCreateView.as_view(),
        name="bank-account-create",
    ),
    path("benefits/accounts/<int:pk>/", AccountDetailView.as_view(), name="bank-account-detail"),
    path(
        "benefits/accounts/<int:pk>/deactivate/",
        AccountDeactivateView.as_view(),
        name="bank-account-deactivate",
    ),
    path(
        "benefits/enrollments/<int:pk>/payee/",
        PayeeView.as_view(),
        name="enrollment-payee",
    ),
]
