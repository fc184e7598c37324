"""Fund pages (基金管理): the county's funds, one fund with its ledger and running balance,
and the forms that post to it: government money per head of population, a named donation,
other income, an expense paying an assistance record, a transfer to another fund of the
county (基金划拨), and the reversing entry that corrects a mistake (of a transfer: the whole
transfer).

Every account of the county reads the funds; the ledger's entries only the county's own
accounts (benefits.fund_selectors). Only the county admin writes (can_configure for the
funds, can_pay for their entries): others get a 403, another county's fund a 404."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from associations.drafts import draft_key, draft_saved
from associations.scope import activate
from associations.views import ServiceFormView, StaffView
from households.filters import search_q
from households.models import AssistanceRecord, Person
from households.pagination import peek_page
from households.selectors import resident_population
from households.views import user_crumbs

from . import fund_selectors, fund_services, fund_transfers, permissions, selectors
from .fund_filters import FundEntryFilter
from .fund_forms import (
    AssistanceExpenseForm,
    DonationForm,
    FundEditForm,
    FundForm,
    FundTransferForm,
    GovernmentIncomeForm,
    OtherIncomeForm,
    ReverseForm,
)
from .loan_selectors import relending_stats
from .models import Fund, FundEntry

LEDGER_PER_PAGE = 50
CANDIDATES_SHOWN = 30


def _crumbs(request) -> dict:
    return {"breadcrumbs": user_crumbs(request.user)}


class FundListView(StaffView):
    def get(self, request):
        funds = fund_selectors.fund_rows(actor=request.user)
        stats = {s.fund.pk: s for s in relending_stats(actor=request.user, funds=funds)}
        for fund in funds:
            fund.stats = stats.get(fund.pk)
        return render(
            request,
            "benefits/funds/fund_list.html",
            {
                "funds": funds,
                "can_configure": permissions.can_configure(request.user),
                **_crumbs(request),
            },
        )


class FundFormPage(ServiceFormView):
    template_name = "benefits/funds/form.html"
    title = ""
    intro = ""

    def context(self) -> dict:
        fund = getattr(self, "fund", None)
        return {
            "title": self.title,
            "intro": self.intro,
            "fund": fund,
            "back_url": reverse("fund-detail", kwargs={"pk": fund.pk})
            if fund
            else reverse("fund-list"),
            "draft_key": draft_key(self.request),
            **self.extra_context(),
            **_crumbs(self.request),
        }

    def extra_context(self) -> dict:
        return {}

    def done(self, entry_or_fund, text: str):
        draft_saved(self.request)
        if getattr(entry_or_fund, "replayed", False):
            messages.info(self.request, "这张表单已经提交过,没有重复登记。")
        else:
            messages.success(self.request, text)
        fund = entry_or_fund if isinstance(entry_or_fund, Fund) else entry_or_fund.fund
        return redirect("fund-detail", pk=fund.pk)


class FundCreateView(FundFormPage):
    title = "设立基金"
    intro = "基金设在县级,余额只随收支记录变化。冠名基金须填写冠名单位;贷款周转金用于发放贷款。"

    def check_permission(self):
        return permissions.can_configure(self.request.user)

    def build_form(self, data=None):
        return FundForm(data)

    def perform(self, form):
        fund = fund_services.fund_create(actor=self.request.user, **form.cleaned_data)
        return self.done(fund, f"已设立基金“{fund.name}”。")


class FundPage(FundFormPage):
    def load(self, pk):
        self.fund = selectors.fund_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return permissions.can_pay(self.request.user)


class FundEditView(FundPage):
    title = "修改基金"

    def check_permission(self):
        return permissions.can_configure(self.request.user)

    def build_form(self, data=None):
        initial = {"name": self.fund.name, "donor": self.fund.donor}
        return FundEditForm(data, initial=initial)

    def perform(self, form):
        fund_services.fund_update(actor=self.request.user, fund=self.fund, **form.cleaned_data)
        return self.done(self.fund, "已保存。")


class GovernmentIncomeView(FundPage):
    title = "财政按人口拨入"

    def build_form(self, data=None):
        return GovernmentIncomeForm(data, initial={"entry_date": timezone.localdate()})

    def extra_context(self):
        county = fund_services.county_node(self.fund.county_id)
        today = timezone.localdate()
        with activate(selectors.county_scope(county.pk)):
            population = resident_population(node=county, on=today)
        return {
            "basis": (
                f"金额 = 本县常住人口 × 每人金额。常住人口按所填日期从人员登记中统计:"
                f"户籍状态为“户籍常住”或“流入”、当日在世的人员(不含流出人员)。"
                f"截至今天({today:%Y-%m-%d})本县常住人口 {population} 人。"
            )
        }

    def perform(self, form):
        entry = fund_services.fund_government_income(
            actor=self.request.user, fund=self.fund, **form.cleaned_data
        )
        return self.done(entry, f"已登记财政拨入 {entry.amount} 元。")


class DonationView(FundPage):
    title = "登记捐赠(冠名)"

    def build_form(self, data=None):
        initial = {"entry_date": timezone.localdate(), "donor": self.fund.donor}
        return DonationForm(data, initial=initial)

    def perform(self, form):
        entry = fund_services.fund_income_record(
            actor=self.request.user,
            fund=self.fund,
            source=FundEntry.Source.DONATION,
            **form.cleaned_data,
        )
        return self.done(entry, f"已登记{entry.donor}捐赠 {entry.amount} 元。")


class OtherIncomeView(FundPage):
    title = "登记其他收入"

    def build_form(self, data=None):
        return OtherIncomeForm(data, initial={"entry_date": timezone.localdate()})

    def perform(self, form):
        entry = fund_services.fund_income_record(
            actor=self.request.user,
            fund=self.fund,
            source=FundEntry.Source.OTHER,
            **form.cleaned_data,
        )
        return self.done(entry, f"已登记收入 {entry.amount} 元。")


def assistance_candidates(*, actor, find: str = "") -> list[AssistanceRecord]:
    """Assistance records of the county with an amount and no live expense yet, newest
    first; `find` narrows them to households whose number or member's name matches."""
    with activate(selectors.county_scope(actor.county_id)):
        paid = FundEntry.objects.filter(
            direction=FundEntry.Direction.EXPENSE,
            assistance__isnull=False,
            reversed_by__isnull=True,
        ).values("assistance_id")
        records = (
            AssistanceRecord.objects.filter(amount__gt=0)
            .exclude(pk__in=paid)
            .select_related("household__head", "village")
            .order_by("-given_on", "-id")
        )
        find = find.strip()[:50]
        if find:
            people = Person.objects.filter(search_q(find, household_prefix="household__"))
            records = records.filter(
                Q(household__number=find) | Q(household__in=people.values("household_id"))
            )
        return list(records[:CANDIDATES_SHOWN])


class AssistanceExpenseView(FundPage):
    title = "帮扶救助支出"
    template_name = "benefits/funds/assistance_expense.html"

    def build_form(self, data=None):
        return AssistanceExpenseForm(data, initial={"entry_date": timezone.localdate()})

    def render(self, form, status=200):
        self.form = form
        return super().render(form, status)

    def extra_context(self):
        find = self.request.GET.get("find", "")
        chosen = str(self.form["assistance"].value() or "")
        return {
            "find": find.strip()[:50],
            "candidates": assistance_candidates(actor=self.request.user, find=find),
            "chosen": chosen,
        }

    def perform(self, form):
        entry = fund_services.fund_assistance_expense(
            actor=self.request.user, fund=self.fund, **form.cleaned_data
        )
        return self.done(entry, f"已从基金支出 {entry.amount} 元。")


class FundTransferView(FundPage):
    title = "划拨到其他基金"
    intro = (
        "从本基金划出一笔钱到本县的另一个基金(如从生育关怀基金补充贷款周转金):本基金记一笔"
        "支出,划入基金记一笔收入,两笔互相注明。本基金余额不足时不能划拨。划错了可在任一笔"
        "记录上冲正,两笔一并冲正。"
    )

    def build_form(self, data=None):
        return FundTransferForm(
            data, source=self.fund, initial={"entry_date": timezone.localdate()}
        )

    def perform(self, form):
        data = form.cleaned_data
        expense = fund_transfers.fund_transfer(
            actor=self.request.user,
            source=self.fund,
            target=data["target"],
            amount=data["amount"],
            entry_date=data["entry_date"],
            description=data["description"],
            form_token=data.get("form_token"),
        )
        target = expense.counterpart.fund
        return self.done(expense, f"已划拨 {expense.amount} 元到“{target.name}”。")


class EntryReverseView(FundFormPage):
    title = "冲正"
    template_name = "benefits/funds/reverse.html"

    def load(self, pk):
        self.entry = fund_selectors.entry_get(actor=self.request.user, pk=pk)
        self.fund = self.entry.fund

    def check_permission(self):
        return permissions.can_pay(self.request.user)

    def build_form(self, data=None):
        return ReverseForm(data, initial={"entry_date": timezone.localdate()})

    def extra_context(self):
        return {
            "entry": self.entry,
            "reversal": fund_selectors.reversal_of(self.entry),
            "counterpart": self.entry.counterpart,  # of a transfer (entry_rows reads it)
        }

    def perform(self, form):
        reversal = fund_services.fund_entry_reverse(
            actor=self.request.user, entry=self.entry, **form.cleaned_data
        )
        other = getattr(reversal, "other_reversal", None)
        if other is not None:
            back, taken = (
                (reversal, other)
                if reversal.direction == FundEntry.Direction.INCOME
                else (other, reversal)
            )
            return self.done(
                reversal,
                f"已冲正这笔划拨:{reversal.amount} 元已从“{taken.fund.name}”"
                f"退回“{back.fund.name}”。",
            )
        return self.done(
            reversal, f"已冲正,登记{reversal.get_direction_display()} {reversal.amount} 元。"
        )


class FundDetailView(StaffView):
    def get(self, request, pk):
        fund = selectors.fund_get(actor=request.user, pk=pk)
        user = request.user
        context = {
            "fund": fund,
            "can_pay": permissions.can_pay(user),
            "can_configure": permissions.can_configure(user),
            "reads_ledger": fund_selectors.reads_ledger(user),
            "stats": relending_stats(actor=user, funds=[fund])[0]
            if fund.kind == Fund.Kind.LOAN
            else None,
            **_crumbs(request),
        }
        if context["reads_ledger"]:
            filterset = FundEntryFilter(request.GET, queryset=FundEntry.objects.none())
            page = peek_page(
                fund_selectors.entry_rows(actor=user, fund=fund, filters=request.GET),
                request.GET,
                per_page=LEDGER_PER_PAGE,
            )
            context.update(
                filter_form=filterset.form,
                page=page,
                totals=fund_selectors.fund_totals(fund=fund, filters=request.GET),
                filtered=any(v for k, v in request.GET.items() if k != "page"),
            )
        return render(request, "benefits/funds/fund_detail.html", context)


urlpatterns = [
    path("benefits/funds/", FundListView.as_view(), name="fund-list"),
    path("benefits/funds/new/", FundCreateView.as_view(), name="fund-create"),
    path("benefits/funds/<int:pk>/", FundDetailView.as_view(), name="fund-detail"),
    path("benefits/funds/<int:pk>/edit/", FundEditView.as_view(), name="fund-edit"),
    path(
        "benefits/funds/<int:pk>/government/",
        GovernmentIncomeView.as_view(),
        name="fund-income-government",
    ),
    path("benefits/funds/<int:pk>/donation/", DonationView.as_view(), name="fund-income-donation"),
    path("benefits/funds/<int:pk>/income/", OtherIncomeView.as_view(), name="fund-income-other"),
    path(
        "benefits/funds/<int:pk>/assistance/",
        AssistanceExpenseView.as_view(),
        name="fund-expense-assistance",
    ),
    path("benefits/funds/<int:pk>/transfer/", FundTransferView.as_view(), name="fund-transfer"),
    path(
        "benefits/fund-entries/<int:pk>/reverse/",
        EntryReverseView.as_view(),
        name="fund-entry-reverse",
    ),
]
