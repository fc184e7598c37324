"""Pages of the members app: the member list and card, editing and leaving, contacts,
pairings and commendations; member groups, volunteer teams and council seats are in
group_views, registering in register_views.

Objects are fetched through scoped querysets (another county's or a sibling village's object
is a 404); writes go through members.services (PermissionDenied → 403, ValidationError shown
on the form with the typed input, status 400)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from activities import selectors as activity_selectors
from associations import permissions
from associations import selectors as association_selectors
from associations.models import Association, ChangeRecord, Level
from associations.views import ServiceFormView, StaffView
from households import identity_reads, masking
from households.categories import age_shown
from households.forms import filters_in_use, prepare_filter_form
from households.models import IdentityRead
from households.pagination import match_count, peek_page

from . import selectors, services
from .filters import MemberFilter
from .forms import (
    CommendationForm,
    ConfirmForm,
    ContactHouseholdForm,
    EndDateForm,
    MemberEditForm,
    MemberLeaveForm,
    PairingForm,
)
from .models import (
    ContactHousehold,
    Member,
    MemberCategory,
    Pairing,
    VolunteerMembership,
)

PER_PAGE = 30
CATEGORY_LABELS = dict(MemberCategory.choices)


def cn_date(value: datetime.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def category_labels(member: Member) -> list[str]:
    return [CATEGORY_LABELS.get(c, c) for c in member.categories]


def _node_param(raw) -> Association | None:
    """A node named by a query parameter, if it exists in the user's scope."""
    if not raw or not str(raw).isdigit():
        return None
    return Association.objects.select_related("parent__parent__parent").filter(pk=int(raw)).first()


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- list and card -----------------------------------------------------------------------------


class MemberListView(StaffView):
    def get(self, request):
        data = request.GET.copy()
        if "status" not in data:
            data["status"] = Member.Status.ACTIVE  # the roll: members in good standing
        filterset = MemberFilter(data, queryset=selectors.member_list(actor=request.user))
        form = prepare_filter_form(filterset, request.user)
        form.fields["q"].widget.attrs["placeholder"] = "姓名、拼音首字母、身份证号或会员证号"
        page = peek_page(filterset.qs, request.GET, per_page=PER_PAGE)
        today = timezone.localdate()
        for member in page:
            member.age = age_shown(member.person.birth_date, today)
            member.category_labels = category_labels(member)
            member.id_number_shown = masking.id_number_for(request.user, member.person.id_number)
        node = _node_param(data.get("under")) or association_selectors.association_get(
            actor=request.user, pk=request.user.node_id
        )
        register_village = None
        if node.level in (Level.VILLAGE, Level.GROUP):
            village = node if node.level == Level.VILLAGE else node.parent
            if permissions.can_edit_node(request.user, village):
                register_village = village
        return render(
            request,
            "members/member_list.html",
            {
                "filter_form": form,
                "filtered": any(v for k, v in request.GET.items() if k != "page"),
                **filters_in_use(request.GET),
                "page": page,
                "count": match_count(filterset.qs, page),
                "node": node,
                "ratio": selectors.membership_ratio_recent(node=node),
                "register_village": register_village,
            },
        )


class MemberDetailView(StaffView):
    def get(self, request, pk):
        member = selectors.member_get(actor=request.user, pk=pk)
        person = member.person
        node = member.placed_at()
        can_edit = permissions.can_edit_node(request.user, node)
        active = member.status == Member.Status.ACTIVE
        history = ChangeRecord.objects.filter(
            object_type=Member._meta.label, object_id=member.pk
        ).order_by("-at", "-id")[:50]
        other_memberships = (
            Member.objects.filter(person=person)
            .exclude(pk=member.pk)
            .select_related("association")
            .order_by("-joined_on")
        )
        teams = VolunteerMembership.objects.filter(member=member).select_related("team")
        pairings = list(member.pairings.all())
        visit_counts = activity_selectors.pairing_visit_counts(pairing_ids=[p.pk for p in pairings])
        for pairing in pairings:
            pairing.visit_count = visit_counts.get(pairing.pk, 0)
        visits, more_visits = activity_selectors.recent_visits(
            actor=request.user, visitor_id=member.pk
        )
        context = {
            "member": member,
            "person": person,
            "node": node,
            "breadcrumbs": node.lineage(),
            "age": age_shown(person.birth_date, timezone.localdate()),
            "birth_date": masking.birth_date_for(request.user, person.birth_date, detail=True),
            "categories": category_labels(member),
            "id_number": masking.id_number_for(request.user, person.id_number, detail=True),
            "phone": masking.phone_for(request.user, person.phone, detail=True),
            "roles": list(member.group_roles.all()),
            "contacts": list(member.contacts.all()),
            "pairings": pairings,
            "visits": visits,
            "more_visits": more_visits,
            "commendations": list(member.commendations.all()),
            "other_memberships": other_memberships,
            "teams": teams,
            "history": history,
            "can_edit": can_edit,
            "can_write": can_edit and active,
            "continue_url": self.continue_url(member) if can_edit and active else "",
        }
        if can_edit and active:
            context["contact_form"] = ContactHouseholdForm(member=member)
            context["pairing_form"] = PairingForm(member=member)
            context["commendation_form"] = CommendationForm()
        identity_reads.record_detail_read(
            actor=request.user,
            request=request,
            persons=[person],
            reason=IdentityRead.Reason.DETAIL_PAGE,
        )
        return render(request, "members/member_detail.html", context)

    def continue_url(self, member: Member) -> str:
        """Just registered (`?registered=1`): "继续新增" opens the form again, same group."""
        if "registered" not in self.request.GET:
            return ""
        url = reverse("member-register", kwargs={"pk": member.village_id})
        return f"{url}?group={member.group_id}" if member.group_id else url


# --- form pages ---------------------------------------------------------------------------------


class MemberFormPage(ServiceFormView):
    """A form on a page of its own (members/form_page.html): the pages that embed a form
    post here, and errors come back on this page with what the user typed."""

    template_name = "members/form_page.html"
    title = ""
    submit_label = "保存"
    danger = False

    def node(self) -> Association:
        raise NotImplementedError

    def back_url(self) -> str:
        raise NotImplementedError

    def extra_context(self) -> dict:
        return {}

    def context(self):
        node = self.node()
        return {
            "node": node,
            "breadcrumbs": node.lineage(),
            "title": self.get_title(),
            "submit_label": self.submit_label,
            "danger": self.danger,
            "back_url": self.back_url(),
            "next": _safe_next(self.request, ""),
            **self.extra_context(),
        }

    def get_title(self) -> str:
        return self.title

    def done(self, message: str, url: str | None = None):
        messages.success(self.request, message)
        return redirect(_safe_next(self.request, url or self.back_url()))


class MemberPage(MemberFormPage):
    """A form page about one member."""

    def load(self, pk):
        self.member = selectors.member_get(actor=self.request.user, pk=pk)

    def node(self):
        return self.member.placed_at()

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.node())

    def back_url(self):
        return reverse("member-detail", kwargs={"pk": self.member.pk})

    def extra_context(self):
        return {"member": self.member}


class MemberEditView(MemberPage):
    def build_form(self, data=None):
        return MemberEditForm(data, member=self.member)

    def perform(self, form):
        data = dict(form.cleaned_data)
        group = data.pop("group")
        services.member_update(actor=self.request.user, member=self.member, group=group, **data)
        return self.done("已保存。")

    def get_title(self):
        return f"修改会员 · {self.member.person.name}"


class MemberLeaveView(MemberPage):
    submit_label = "确认退会"
    danger = True

    def build_form(self, data=None):
        return MemberLeaveForm(data)

    def perform(self, form):
        services.member_leave(
            actor=self.request.user,
            member=self.member,
            left_on=form.cleaned_data["left_on"],
            reason=form.cleaned_data["leave_reason"],
        )
        return self.done(f"{self.member.person.name} 已退会,会籍记录保留。")

    def get_title(self):
        return f"退会 · {self.member.person.name}"

    def extra_context(self):
        return {
            "member": self.member,
            "intro": (
                f"会员证号 {self.member.member_number},{cn_date(self.member.joined_on)}入会。"
                "退会后会籍和变更记录都会保留;担任的小组职务、结对帮扶同日结束。"
                "以后可以重新入会(新的会籍)。"
            ),
        }


class ContactAddView(MemberPage):
    title = "添加联系户"

    def build_form(self, data=None):
        return ContactHouseholdForm(data, member=self.member)

    def perform(self, form):
        link = services.contact_household_add(
            actor=self.request.user, member=self.member, **form.cleaned_data
        )
        return self.done(f"已添加联系户 {link.household.number}户。")


class PairingStartView(MemberPage):
    title = "结对帮扶"

    def build_form(self, data=None):
        return PairingForm(data, member=self.member)

    def perform(self, form):
        pairing = services.pairing_start(
            actor=self.request.user, member=self.member, **form.cleaned_data
        )
        return self.done(f"已与 {pairing.household.number}户 结对帮扶。")


class CommendationAddView(MemberPage):
    title = "登记表彰"

    def build_form(self, data=None):
        return CommendationForm(data)

    def perform(self, form):
        commendation = services.commendation_add(
            actor=self.request.user, member=self.member, **form.cleaned_data
        )
        return self.done(f"已登记{commendation}。")


class ContactRemoveView(MemberFormPage):
    submit_label = "确认移除"
    danger = True

    def load(self, pk):
        self.link = get_object_or_404(
            ContactHousehold.objects.select_related(
                "member__person", "member__village", "member__group", "household__head"
            ),
            pk=pk,
        )

    def node(self):
        return self.link.member.placed_at()

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.node())

    def build_form(self, data=None):
        return ConfirmForm(data)

    def perform(self, form):
        services.contact_household_remove(actor=self.request.user, link=self.link)
        return self.done(f"已移除联系户 {self.link.household.number}户。")

    def get_title(self):
        return "移除联系户"

    def back_url(self):
        return reverse("member-detail", kwargs={"pk": self.link.member_id})

    def extra_context(self):
        head = self.link.household.head
        return {
            "intro": (
                f"{self.link.member.person.name} 不再联系 {self.link.household.number}户"
                f"{'(户主 ' + head.name + ')' if head else ''}。"
            )
        }


class PairingEndView(MemberFormPage):
    submit_label = "结束结对"

    def load(self, pk):
        self.pairing = get_object_or_404(
            Pairing.objects.select_related("member__person", "household__head", "village", "group"),
            pk=pk,
        )

    def node(self):
        return self.pairing.group or self.pairing.village

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.node())

    def build_form(self, data=None):
        return EndDateForm(data)

    def perform(self, form):
        services.pairing_end(
            actor=self.request.user, pairing=self.pairing, ends_on=form.cleaned_data["ends_on"]
        )
        return self.done("结对帮扶已结束。")

    def get_title(self):
        return "结束结对帮扶"

    def back_url(self):
        return reverse("member-detail", kwargs={"pk": self.pairing.member_id})

    def extra_context(self):
        return {
            "intro": (
                f"{self.pairing.member.person.name} 与 {self.pairing.household.number}户"
                "的结对帮扶,"
                f"{cn_date(self.pairing.starts_on)}开始。"
            )
        }
