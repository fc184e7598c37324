"""The person and household lists with their filters, counts and exports (CSV, xlsx).

Reads go through the scoped selectors; a filter the form refuses is a 400 with the form
shown."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from associations.models import Role
from associations.sheets.responses import xlsx_response
from associations.views import StaffView

from . import exports, masking, selectors
from .categories import age_shown, category_labels
from .filters import HouseholdFilter, PersonFilter
from .forms import describe_filters, filters_in_use, prepare_filter_form
from .models import Person
from .pagination import match_count, peek_page
from .views import add_village, user_crumbs

PER_PAGE = 30


class ListPage(StaffView):
    filter_class = None
    template_name = ""

    def queryset(self):
        raise NotImplementedError

    def filterset(self):
        return self.filter_class(self.request.GET, queryset=self.queryset())

    def decorate(self, rows: list, today) -> None:
        """Add what the table shows to each row of the page."""

    def get(self, request):
        filterset = self.filterset()
        form = prepare_filter_form(filterset, request.user)
        page = peek_page(filterset.qs, request.GET, per_page=PER_PAGE)
        self.decorate(page.object_list, timezone.localdate())
        export_query = request.GET.copy()
        export_query.pop("page", None)
        return render(
            request,
            self.template_name,
            {
                "filter_form": form,
                "page": page,
                "count": match_count(filterset.qs, page) if form.is_valid() else None,
                "filtered": any(v for k, v in request.GET.items() if k != "page"),
                **filters_in_use(request.GET),
                "export_query": export_query.urlencode(),
                "breadcrumbs": user_crumbs(request.user),
                "add_village": add_village(request.user),
                "may_look_up": masking.may_look_up_by_id_number(request.user),
                "may_see_reads": request.user.role == Role.COUNTY_ADMIN,
            },
        )


class PersonListView(ListPage):
    filter_class = PersonFilter
    template_name = "households/person_list.html"

    def queryset(self):
        return selectors.person_list(actor=self.request.user)

    def decorate(self, rows, today):
        user = self.request.user
        for person in rows:
            person.masked_id = masking.id_number_for(user, person.id_number)
            person.age = age_shown(person.birth_date, today)
            person.labels = category_labels(person.household.categories) if person.household else []


class HouseholdListView(ListPage):
    filter_class = HouseholdFilter
    template_name = "households/household_list.html"

    def queryset(self):
        return selectors.household_list(actor=self.request.user)

    def decorate(self, rows, today):
        user = self.request.user
        counts = dict(
            Person.objects.filter(household__in=[h.pk for h in rows])
            .order_by()
            .values_list("household")
            .annotate(n=Count("id"))
        )
        for household in rows:
            household.member_count = counts.get(household.pk, 0)
            head = household.head
            household.head_masked_id = masking.id_number_for(user, head.id_number) if head else ""
            household.labels = category_labels(household.categories)


def _export_title(request, what: str, filterset) -> str:
    node = request.user.node
    conditions = describe_filters(filterset)
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    parts = [f"{node.name}{what}", f"导出时间 {stamp}", "身份证号、电话已脱敏"]
    if conditions:
        parts.insert(1, f"筛选:{conditions}")
    return " · ".join(parts)


def bad_filter_response(request, filterset, list_url: str):
    """An export asked with a filter that does not parse answers 400 and says which, rather
    than exporting rows the user did not ask for. (Validating first also keeps the filters
    the CSV and the workbook apply the same, whatever later decorates the form.)"""
    form = filterset.form
    errors = [
        f"{form.fields[name].label}:{message}" if name in form.fields else message
        for name, field_errors in form.errors.items()
        for message in field_errors
    ]
    query = request.GET.urlencode()
    return render(
        request,
        "households/bad_filter.html",
        {"errors": errors, "back": f"{list_url}?{query}" if query else list_url},
        status=400,
    )


class PersonExportCsvView(StaffView):
    def get(self, request):
        filterset = PersonFilter(request.GET, queryset=selectors.person_list(actor=request.user))
        if not filterset.is_valid():
            return bad_filter_response(request, filterset, reverse("person-list"))
        # Streamed: the queryset is evaluated in the generator, under this request's scope.
        return exports.people_csv(
            filterset.qs,
            request.user,
            filename=exports.export_filename(exports.PEOPLE_STEM, "csv"),
        )


class PersonExportXlsxView(StaffView):
    def get(self, request):
        filterset = PersonFilter(request.GET, queryset=selectors.person_list(actor=request.user))
        if not filterset.is_valid():
            return bad_filter_response(request, filterset, reverse("person-list"))
        rows = filterset.qs
        prepare_filter_form(filterset, request.user)
        content = exports.people_xlsx(
            rows, request.user, title=_export_title(request, "人员名单", filterset)
        )
        return xlsx_response(content, exports.export_filename(exports.PEOPLE_STEM, "xlsx"))


class HouseholdExportCsvView(StaffView):
    def get(self, request):
        filterset = HouseholdFilter(
            request.GET, queryset=selectors.household_list(actor=request.user)
        )
        if not filterset.is_valid():
            return bad_filter_response(request, filterset, reverse("household-list"))
        return exports.households_csv(
            filterset.qs,
            request.user,
            filename=exports.export_filename(exports.HOUSEHOLDS_STEM, "csv"),
        )


class HouseholdExportXlsxView(StaffView):
    def get(self, request):
        filterset = HouseholdFilter(
            request.GET, queryset=selectors.household_list(actor=request.user)
        )
        if not filterset.is_valid():
            return bad_filter_response(request, filterset, reverse("household-list"))
        rows = filterset.qs
        prepare_filter_form(filterset, request.user)
        content = exports.households_xlsx(
            rows, request.user, title=_export_title(request, "家庭户名单", filterset)
        )
        return xlsx_response(content, exports.export_filename(exports.HOUSEHOLDS_STEM, "xlsx"))
