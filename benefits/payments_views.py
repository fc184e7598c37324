"""The payments pages: batches (list, new, detail with its lines, confirm, pay, cancel,
re-issue), the bank transfer file and the receipt sheets, the bank's return file, a line that
failed, and the totals by village, township and county.

Reads go through payments_selectors (a batch of the actor's subtree, or one made above the
actor's node that covers it, shown with the actor's own lines only; any other batch is a
404), writes through payments_services (only the county's administrators pay: 403 for the
others). Every action that changes a batch carries a one-time token
(associations.submissions), so a double tap does it once."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from associations.forms import add_service_errors
from associations.imports.checks import FileRefused
from associations.models import Level
from associations.permissions import require
from associations.selectors import association_get
from associations.sheets.responses import xlsx_response
from associations.views import ServiceFormView, StaffView
from households import identity_reads, masking
from households.models import IdentityRead
from households.pagination import peek_page

from . import payments_account_views, payments_lines, payments_sheets
from . import payments_returns as returns
from . import payments_selectors as selectors
from . import payments_services as services
from . import selectors as benefit_selectors
from .models import BatchStatus
from .payments_filters import DisbursementBatchFilter, DisbursementFilter
from .payments_forms import (
    ActionForm,
    BatchCreateForm,
    BatchPayForm,
    LineFailForm,
    ReturnFileForm,
    TotalsForm,
)
from .payments_rules import method_label, parse_period
from .payments_sheets import payee_id_number, payee_name
from .permissions import can_pay

LINES_PER_PAGE = 50
BATCHES_PER_PAGE = 30
BANK_FILE_ONLY = "代发文件含完整银行账号,只有县级管理员可以生成。"


def _program_choice(filterset, programs) -> None:
    """The list's programme filter as a select of the county's programmes."""
    filterset.form.fields["program"] = forms.TypedChoiceField(
        label="扶助项目",
        coerce=int,
        required=False,
        choices=[("", "全部")] + [(p.pk, p.name) for p in programs],
    )


class BatchListView(StaffView):
    def get(self, request):
        user = request.user
        programs = benefit_selectors.program_list(actor=user)
        filterset = DisbursementBatchFilter(request.GET, queryset=selectors.batch_list(actor=user))
        _program_choice(filterset, programs)
        filterset.form.fields.pop("under")
        valid = filterset.form.is_valid()
        batches = filterset.qs if valid else selectors.batch_list(actor=user).none()
        page = Paginator(batches, BATCHES_PER_PAGE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            "benefits/payments/batch_list.html",
            {
                "filter_form": filterset.form,
                "page": page,
                "query": query.urlencode(),
                "can_pay": can_pay(user),
                "below_county": user.node_level != Level.COUNTY,
            },
            status=200 if valid else 400,
        )


class BatchCreateView(ServiceFormView):
    template_name = "benefits/payments/form.html"

    def check_permission(self):
        return can_pay(self.request.user)

    def build_form(self, data=None):
        self.programs = benefit_selectors.program_list(actor=self.request.user, active_only=True)
        initial = {"node": self.request.user.node_id}
        return BatchCreateForm(data, programs=self.programs, initial=initial)

    def perform(self, form):
        data = form.cleaned_data
        program = benefit_selectors.program_get(actor=self.request.user, pk=data["program"])
        batch = services.batch_create(
            actor=self.request.user,
            program=program,
            period=data["period"],
            node=data["node"],
            note=data["note"],
            form_token=data.get("form_token"),
        )
        if getattr(batch, "replayed", False):
            messages.info(self.request, "这张表单已经提交过,批次已生成,没有重复生成。")
        else:
            messages.success(
                self.request, f"已生成发放批次(草稿),共 {batch.line_count} 名对象,请核对后确认。"
            )
        return redirect("payment-batch-detail", pk=batch.pk)

    def context(self):
        return {
            "title": "新建发放批次",
            "intro": "按项目和发放期,为所选范围内的在册对象各生成一条发放明细(金额为在册标准);"
            "本期已在其他批次发放的对象不再列入。",
            "cancel_url": reverse("payment-batch-list"),
        }


def _actions(batch, user) -> dict:
    pays = can_pay(user)
    return {
        "can_confirm": pays and batch.status == BatchStatus.DRAFT,
        "can_cancel": pays and batch.status == BatchStatus.DRAFT,
        "can_mark_paid": pays and batch.status == BatchStatus.CONFIRMED,
        "can_bank_file": masking.may_export_bank_accounts(user)
        and pays
        and batch.status == BatchStatus.CONFIRMED,
        "can_returns": pays and batch.status in (BatchStatus.CONFIRMED, BatchStatus.PAID),
        "can_fail": pays and batch.status in (BatchStatus.CONFIRMED, BatchStatus.PAID),
        "can_reissue": pays and batch.status in (BatchStatus.CONFIRMED, BatchStatus.PAID),
    }


@method_decorator(never_cache, name="dispatch")
class BatchDetailView(StaffView):
    def get(self, request, pk):
        user = request.user
        batch = selectors.batch_get(actor=user, pk=pk)
        filterset = DisbursementFilter(
            request.GET, queryset=selectors.line_list(actor=user).filter(batch=batch)
        )
        for name in ("batch", "program", "period", "person", "under"):
            filterset.form.fields.pop(name)
        valid = filterset.form.is_valid()
        lines = filterset.qs if valid else selectors.line_list(actor=user).none()
        page = peek_page(lines, request.GET, per_page=LINES_PER_PAGE)
        for line in page.object_list:
            line.payee = payee_name(line)
            line.masked_id = masking.id_number_for(user, payee_id_number(line))
            account = line.bank_account
            line.account_text = (
                f"{account.bank_name} {masking.bank_account_for(user, account.account_number)}"
                if account
                else "现金"
            )
        tallies = selectors.batch_tallies(actor=user, batch=batch)
        covers_more = selectors.covers_more_than(batch, user)
        # The fund's expense is the whole batch's sum: not for an account that sees a part.
        expense = (
            payments_lines.batch_expense(batch)
            if batch.status == BatchStatus.PAID and not covers_more
            else None
        )
        return render(
            request,
            "benefits/payments/batch_detail.html",
            {
                "batch": batch,
                "period": parse_period(batch.program.frequency, batch.period),
                "method": method_label(batch.method),
                "page": page,
                "filter_form": filterset.form,
                "tallies": tallies,
                "live": [t for t in tallies if t.status in ("confirmed", "paid")],
                "expense": expense,
                "covers_more": covers_more,
                # one token each: a page sent back (the browser's Back) with one action's
                # token must not pass for another's
                "confirm_form": ActionForm(),
                "cancel_form": ActionForm(),
                "reissue_form": ActionForm(),
                **_actions(batch, user),
            },
            status=200 if valid else 400,
        )


class BatchActionView(StaffView):
    """A POST button on a batch: confirm, cancel or re-issue."""

    def service(self, request, batch, token):
        raise NotImplementedError

    def post(self, request, pk):
        batch = selectors.batch_get(actor=request.user, pk=pk)
        require(can_pay(request.user), services.NOT_ALLOWED)
        form = ActionForm(request.POST)
        token = form.cleaned_data.get("form_token") if form.is_valid() else None
        try:
            target = self.service(request, batch, token)
        except ValidationError as error:
            messages.error(request, ";".join(error.messages))
            target = batch
        return redirect("payment-batch-detail", pk=target.pk)


class BatchConfirmView(BatchActionView):
    def service(self, request, batch, token):
        batch = services.batch_confirm(actor=request.user, batch=batch, form_token=token)
        if getattr(batch, "replayed", False):
            messages.info(request, "这张表单已经提交过,批次已确认。")
        elif batch.status == BatchStatus.CANCELLED:
            messages.warning(
                request,
                f"本批次 {batch.cancelled_count} 名对象{services.ALREADY_PAID},没有需要发放的对象,"
                "批次已作废。",
            )
        else:
            cancelled = batch.cancelled_count
            note = f",{cancelled} 名对象{services.ALREADY_PAID}已作废" if cancelled else ""
            messages.success(request, f"已确认 {batch.confirmed_count} 条发放明细{note}。")
        return batch


class BatchCancelView(BatchActionView):
    def service(self, request, batch, token):
        batch = services.batch_cancel(actor=request.user, batch=batch, form_token=token)
        if getattr(batch, "replayed", False):
            messages.info(request, "这张表单已经提交过。")
        else:
            messages.success(request, "已作废该批次。")
        return batch


class BatchReissueView(BatchActionView):
    def service(self, request, batch, token):
        new = services.batch_reissue(actor=request.user, batch=batch, form_token=token)
        if getattr(new, "replayed", False):
            messages.info(request, "这张表单已经提交过,重发批次已生成。")
        else:
            messages.success(request, f"已生成重发批次(草稿),共 {new.line_count} 条,请核对后确认。")
        return new


class BatchPayView(ServiceFormView):
    template_name = "benefits/payments/form.html"

    def load(self, pk):
        self.batch = selectors.batch_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return can_pay(self.request.user)

    def build_form(self, data=None):
        return BatchPayForm(data)

    def perform(self, form):
        data = form.cleaned_data
        batch = services.batch_mark_paid(
            actor=self.request.user,
            batch=self.batch,
            paid_on=data["paid_on"],
            method=data["method"],
            reference=data["reference"],
            form_token=data.get("form_token"),
        )
        if not getattr(batch, "replayed", False):
            messages.success(self.request, f"已登记发放,合计 {batch.paid_total:.2f} 元。")
        return redirect("payment-batch-detail", pk=batch.pk)

    def context(self):
        fund = self.batch.program.fund
        intro = "本批次已确认且尚未登记结果的明细,全部按此日期登记为已发放。"
        if fund is not None:
            intro += f"发放总额将从“{fund.name}”支出一笔,余额不足时不能登记。"
        return {
            "title": f"登记发放:{self.batch.program.name} {self.batch.period}",
            "intro": intro,
            "cancel_url": reverse("payment-batch-detail", kwargs={"pk": self.batch.pk}),
        }


class BankFileView(StaffView):
    """POST: the bank transfer file, with full account numbers (county administrators only,
    recorded). A POST, so that no link, prefetch or crawler writes one."""

    def post(self, request, pk):
        user = request.user
        batch = selectors.batch_get(actor=user, pk=pk)
        require(can_pay(user) and masking.may_export_bank_accounts(user), BANK_FILE_ONLY)
        if batch.status != BatchStatus.CONFIRMED:
            messages.error(request, "只有已确认、尚未登记发放的批次才能生成代发文件。")
            return redirect("payment-batch-detail", pk=batch.pk)
        period = parse_period(batch.program.frequency, batch.period)
        made = payments_sheets.bank_file(batch, period, made_on=timezone.localdate())
        if made.holder_ids:
            identity_reads.record_read(
                actor=user,
                persons=made.holder_ids,
                fields=["bank_account"],
                reason=IdentityRead.Reason.EXPORT,
                request=request,
            )
        return xlsx_response(made.content, payments_sheets.bank_file_name(batch))


class ReceiptsView(StaffView):
    """The receipt sheets of the batch's villages the user's scope holds: a village secretary
    gets the village's sheet of a county batch, a township's staff their villages'."""

    def get(self, request, pk):
        user = request.user
        batch = selectors.batch_get(actor=user, pk=pk)
        period = parse_period(batch.program.frequency, batch.period)
        content = payments_sheets.receipts(batch, period, user=user, made_on=timezone.localdate())
        covers_more = selectors.covers_more_than(batch, user)
        if content is None:
            where = "在您的管理范围内" if covers_more else ""
            messages.error(request, f"本批次{where}没有已确认或已发放的明细,无法生成领取签收表。")
            return redirect("payment-batch-detail", pk=batch.pk)
        place = association_get(actor=user, pk=user.node_id).name if covers_more else ""
        return xlsx_response(content, payments_sheets.receipts_name(batch, place=place))


class ReturnFileView(StaffView):
    template = "benefits/payments/returns.html"

    def _page(self, request, batch, form, *, problems=(), outcome=None, status=200):
        return render(
            request,
            self.template,
            {"batch": batch, "form": form, "problems": problems, "outcome": outcome},
            status=status,
        )

    def _load(self, request, pk):
        batch = selectors.batch_get(actor=request.user, pk=pk)
        require(can_pay(request.user), services.NOT_ALLOWED)
        return batch

    def get(self, request, pk):
        return self._page(request, self._load(request, pk), ReturnFileForm())

    def post(self, request, pk):
        batch = self._load(request, pk)
        form = ReturnFileForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._page(request, batch, form, status=400)
        upload = form.cleaned_data["file"]
        try:
            outcome = returns.apply_return_file(
                actor=request.user, batch=batch, name=upload.name, data=upload.read()
            )
        except FileRefused as refused:
            form.add_error("file", refused.message)
            return self._page(request, batch, form, status=400)
        except returns.ResultsRefused as refused:
            return self._page(request, batch, form, problems=refused.problems, status=400)
        except ValidationError as error:
            add_service_errors(form, error)
            return self._page(request, batch, form, status=400)
        messages.success(request, f"回盘文件已登记:{outcome.text}")
        return redirect("payment-batch-detail", pk=batch.pk)


class LineFailView(ServiceFormView):
    template_name = "benefits/payments/form.html"

    def load(self, pk):
        self.line = selectors.line_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return can_pay(self.request.user)

    def build_form(self, data=None):
        return LineFailForm(data)

    def perform(self, form):
        services.line_fail(
            actor=self.request.user, line=self.line, reason=form.cleaned_data["reason"]
        )
        messages.success(self.request, "已标记为发放失败,可在批次页面重发。")
        return redirect("payment-batch-detail", pk=self.line.batch_id)

    def context(self):
        line = self.line
        return {
            "title": f"标记发放失败:{payee_name(line)} {line.amount} 元",
            "intro": f"业务参考号 {line.reference or '—'}。标记后该明细不再计为本期已发放,可以重发;"
            "已登记发放的,金额退回项目基金。",
            "cancel_url": reverse("payment-batch-detail", kwargs={"pk": line.batch_id}),
        }


class TotalsView(StaffView):
    def get(self, request):
        user = request.user
        programs = benefit_selectors.program_list(actor=user)
        form = TotalsForm(request.GET or None, programs=programs)
        totals, status = None, 200
        if form.is_bound and form.is_valid() and form.cleaned_data["program"]:
            program = benefit_selectors.program_get(actor=user, pk=form.cleaned_data["program"])
            node = None
            under = request.GET.get("under")
            if under and under.isdigit():
                node = association_get(actor=user, pk=int(under))
            try:
                period = parse_period(program.frequency, form.cleaned_data["period"])
            except ValidationError as error:
                add_service_errors(form, error)
                status = 400
            else:
                totals = selectors.payment_totals(
                    actor=user, program=program, period=period.key, node=node
                )
                totals.period_label = period.label
        elif form.is_bound and not form.is_valid():
            status = 400
        return render(
            request,
            "benefits/payments/totals.html",
            {"form": form, "totals": totals},
            status=status,
        )


batch_urlpatterns = [
    path("benefits/batches/", BatchListView.as_view(), name="payment-batch-list"),
    path("benefits/batches/new/", BatchCreateView.as_view(), name="payment-batch-create"),
    path("benefits/batches/<int:pk>/", BatchDetailView.as_view(), name="payment-batch-detail"),
    path(
        "benefits/batches/<int:pk>/confirm/",
        BatchConfirmView.as_view(),
        name="payment-batch-confirm",
    ),
    path("benefits/batches/<int:pk>/pay/", BatchPayView.as_view(), name="payment-batch-pay"),
    path(
        "benefits/batches/<int:pk>/cancel/", BatchCancelView.as_view(), name="payment-batch-cancel"
    ),
    path(
        "benefits/batches/<int:pk>/reissue/",
        BatchReissueView.as_view(),
        name="payment-batch-reissue",
    ),
    path(
        "benefits/batches/<int:pk>/bank-file/",
        BankFileView.as_view(),
        name="payment-batch-bank-file",
    ),
    path(
        "benefits/batches/<int:pk>/receipts/",
        ReceiptsView.as_view(),
        name="payment-batch-receipts",
    ),
    path(
        "benefits/batches/<int:pk>/returns/",
        ReturnFileView.as_view(),
        name="payment-batch-returns",
    ),
    path("benefits/lines/<int:pk>/fail/", LineFailView.as_view(), name="payment-line-fail"),
    path("benefits/payments/totals/", TotalsView.as_view(), name="payment-totals"),
]

urlpatterns = [*batch_urlpatterns, *payments_account_views.urlpatterns]
