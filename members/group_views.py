"""Pages of member groups (leader, contact-household heads, contact households), volunteer
teams and linking a council seat to a member. Objects are fetched through scoped querysets;
writes go through members.services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from associations import permissions
from associations import selectors as association_selectors
from associations.models import Association, Level
from associations.views import StaffView
from households.pagination import match_count, peek_page

from . import selectors, services
from .forms import (
    EndDateForm,
    GroupCommendationForm,
    GroupRoleForm,
    SeatMemberForm,
    VolunteerJoinForm,
    VolunteerTeamForm,
)
from .models import Commendation, GroupRole, VolunteerMembership, VolunteerTeam
from .views import PER_PAGE, MemberFormPage, cn_date


def _group(request, pk) -> Association:
    node = association_selectors.association_get(actor=request.user, pk=pk)
    if node.level != Level.GROUP:
        raise Http404("不是会员小组。")
    return node


class GroupSheetView(StaffView):
    def get(self, request, pk):
        group = _group(request, pk)
        sheet = selectors.group_sheet(group=group)
        can_edit = permissions.can_edit_node(request.user, group)
        commendations = Commendation.objects.filter(
            group=group, kind=Commendation.Kind.ADVANCED_GROUP
        ).order_by("-year")
        context = {
            "node": group,
            "breadcrumbs": group.lineage(),
            "sheet": sheet,
            "commendations": commendations,
            "can_edit": can_edit,
            "ratio": selectors.membership_ratio(node=group),
        }
        if can_edit:
            context["role_form"] = GroupRoleForm(group=group)
            context["commendation_form"] = GroupCommendationForm()
        return render(request, "members/group_sheet.html", context)


class GroupPage(MemberFormPage):
    def load(self, pk):
        self.group = _group(self.request, pk)

    def node(self):
        return self.group

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.group)

    def back_url(self):
        return reverse("group-sheet", kwargs={"pk": self.group.pk})


class GroupRoleAssignView(GroupPage):
    title = "任命小组长 / 联系户长"

    def build_form(self, data=None):
        return GroupRoleForm(data, group=self.group)

    def perform(self, form):
        assignment = services.group_role_assign(actor=self.request.user, **form.cleaned_data)
        return self.done(
            f"已任命 {assignment.member.person.name} 为{assignment.get_role_display()}。"
        )


class GroupCommendationView(GroupPage):
    title = "登记先进会员小组"

    def build_form(self, data=None):
        return GroupCommendationForm(data)

    def perform(self, form):
        services.commendation_add(
            actor=self.request.user,
            kind=Commendation.Kind.ADVANCED_GROUP,
            group=self.group,
            **form.cleaned_data,
        )
        return self.done("已登记先进会员小组表彰。")


class GroupRoleEndView(MemberFormPage):
    submit_label = "确认卸任"

    def load(self, pk):
        self.assignment = get_object_or_404(
            GroupRole.objects.select_related("member__person", "group__parent__parent__parent"),
            pk=pk,
        )

    def node(self):
        return self.assignment.group

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.assignment.group)

    def build_form(self, data=None):
        return EndDateForm(data, label="卸任日期")

    def perform(self, form):
        services.group_role_end(
            actor=self.request.user,
            assignment=self.assignment,
            ends_on=form.cleaned_data["ends_on"],
        )
        return self.done(
            f"{self.assignment.member.person.name} 已卸任{self.assignment.get_role_display()}。"
        )

    def get_title(self):
        return f"卸任{self.assignment.get_role_display()}"

    def back_url(self):
        return reverse("group-sheet", kwargs={"pk": self.assignment.group_id})

    def extra_context(self):
        return {
            "intro": (
                f"{self.assignment.member.person.name},"
                f"{cn_date(self.assignment.starts_on)}起任{self.assignment.get_role_display()}。"
            )
        }


# --- volunteer teams ----------------------------------------------------------------------------


class VolunteersView(StaffView):
    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        teams = selectors.volunteer_teams(node=node).select_related(
            "parent", "township", "village", "group"
        )
        can_edit = permissions.can_edit_node(request.user, node)
        # A county runs hundreds of teams: one page at a time, like every other list.
        page = peek_page(teams, request.GET, per_page=PER_PAGE)
        for team in page:
            team.run_by = services.team_node(team)
            team.can_join = permissions.can_edit_node(request.user, team.run_by)
        return render(
            request,
            "members/volunteers.html",
            {
                "node": node,
                "breadcrumbs": node.lineage(),
                "page": page,
                "count": match_count(teams, page),
                "can_edit": can_edit,
                "form": VolunteerTeamForm(node=node) if can_edit else None,
            },
        )


class VolunteerTeamCreateView(MemberFormPage):
    title = "新建志愿者服务队"

    def load(self, pk):
        self.node_obj = association_selectors.association_get(actor=self.request.user, pk=pk)

    def node(self):
        return self.node_obj

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.node_obj)

    def build_form(self, data=None):
        return VolunteerTeamForm(data, node=self.node_obj)

    def perform(self, form):
        team = services.volunteer_team_create(
            actor=self.request.user, node=self.node_obj, **form.cleaned_data
        )
        return self.done(f"已新建服务队“{team.name}”。")

    def back_url(self):
        return reverse("volunteer-team-list", kwargs={"pk": self.node_obj.pk})


class VolunteerJoinView(MemberFormPage):
    """The team's roster, for everyone who sees the team; the joining form for those who
    may edit the node that runs it."""

    template_name = "members/volunteer_join.html"

    def get(self, request, **kwargs):
        self.load(**kwargs)
        return self.render(self.build_form() if self.check_permission() else None)

    def load(self, pk):
        self.team = get_object_or_404(
            VolunteerTeam.objects.select_related(
                "county", "township", "village", "group", "parent"
            ),
            pk=pk,
        )
        self.run_by = services.team_node(self.team)

    def node(self):
        return self.run_by

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.run_by)

    def build_form(self, data=None):
        return VolunteerJoinForm(
            data, node=self.run_by, search=self.request.GET.get("q", "").strip()
        )

    def perform(self, form):
        link = services.volunteer_join(actor=self.request.user, team=self.team, **form.cleaned_data)
        return self.done(f"{link.member.person.name} 已加入“{self.team.name}”。", self.request.path)

    def get_title(self):
        return f"服务队成员 · {self.team.name}"

    def back_url(self):
        return reverse("volunteer-team-list", kwargs={"pk": self.run_by.pk})

    def extra_context(self):
        return {
            "team": self.team,
            "q": self.request.GET.get("q", ""),
            "roster": VolunteerMembership.objects.filter(team=self.team)
            .select_related("member__person")
            .order_by("member__member_number"),
        }


# --- council seats ------------------------------------------------------------------------------


class SeatMemberView(MemberFormPage):
    submit_label = "关联会员"

    def load(self, pk):
        self.seat = association_selectors.seat_get(pk=pk)
        self.association = self.seat.council.association

    def node(self):
        return self.association

    def check_permission(self):
        return permissions.can_manage_council(self.request.user, self.association)

    def build_form(self, data=None):
        return SeatMemberForm(data, association=self.association)

    def perform(self, form):
        member = form.cleaned_data["member"]
        services.seat_link_member(actor=self.request.user, seat=self.seat, member=member)
        messages.success(
            self.request,
            f"{self.seat.get_position_display()}已关联会员 {member.person.name}"
            f"(会员证号 {member.member_number})。",
        )
        return redirect("council", pk=self.association.pk)

    def get_title(self):
        return f"理事会成员关联会员 · {self.seat.person_name}"

    def back_url(self):
        return reverse("council", kwargs={"pk": self.association.pk})

    def extra_context(self):
        return {"intro": "选择担任此职位的本会会员;职位上的姓名随会员姓名更新。"}
