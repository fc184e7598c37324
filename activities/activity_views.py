"""Activity pages: record one at a node (create), see it (detail), change it, its attendee
list, delete it. Objects come through the scoped selectors (out of scope: 404); writing needs
associations.permissions.can_record_field_work on the activity's association (else 403); the
services write and record the changes. A creating form carries a one-time token: sent twice,
it records one activity."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from associations import permissions
from associations import selectors as association_selectors
from associations.drafts import draft_key, draft_saved
from associations.models import Association, ChangeRecord, Level
from associations.views import ServiceFormView, StaffView

from . import selectors, services
from .attachment_views import activity_attachment_card
from .forms import ActivityForm, AttendeesForm, node_groups
from .models import Activity


def recorded_by(obj) -> ChangeRecord | None:
    """Who recorded the object, and when: its change record of creation."""
    return (
        ChangeRecord.objects.filter(
            object_type=obj._meta.label, object_id=obj.pk, action=ChangeRecord.Action.CREATE
        )
        .order_by("at")
        .first()
    )


class FieldWorkPage(ServiceFormView):
    """A form page of field work (activities, visits) about a node."""

    template_name = ""
    title = ""

    def node(self) -> Association:
        raise NotImplementedError

    def check_permission(self) -> bool:
        return permissions.can_record_field_work(self.request.user, self.node())

    def back_url(self) -> str:
        return reverse("node-activities", kwargs={"pk": self.node().pk})

    def extra_context(self) -> dict:
        return {}

    def context(self) -> dict:
        node = self.node()
        return {
            "node": node,
            "breadcrumbs": node.lineage(),
            "title": self.title,
            "back_url": self.back_url(),
            "draft_key": draft_key(self.request),
            **self.extra_context(),
        }


class ActivityCreateView(FieldWorkPage):
    template_name = "activities/activity_form.html"

    def load(self, pk):
        self.at = association_selectors.association_get(actor=self.request.user, pk=pk)
        self.title = f"记录活动 · {self.at.name}"

    def node(self):
        return self.at

    def build_form(self, data=None):
        return ActivityForm(data, node=self.at)

    def perform(self, form):
        activity = services.activity_create(
            actor=self.request.user,
            association=self.at,
            form_token=form.cleaned_data.get("form_token"),
            **form.service_fields(),
        )
        draft_saved(self.request)
        if getattr(activity, "replayed", False):
            messages.info(self.request, "这张表单已经提交过,活动已登记,没有重复登记。")
        else:
            messages.success(self.request, f"已登记活动:{activity}。")
        return redirect("activity-detail", pk=activity.pk)


class ActivityPage(FieldWorkPage):
    """A form page about one activity."""

    def load(self, pk):
        self.activity = selectors.activity_get(actor=self.request.user, pk=pk)

    def node(self):
        return self.activity.association

    def back_url(self):
        return reverse("activity-detail", kwargs={"pk": self.activity.pk})

    def extra_context(self):
        return {"activity": self.activity}


class ActivityEditView(ActivityPage):
    template_name = "activities/activity_form.html"

    def load(self, pk):
        super().load(pk)
        self.title = f"修改活动 · {self.activity}"

    def build_form(self, data=None):
        return ActivityForm(data, node=self.activity.association, activity=self.activity)

    def perform(self, form):
        services.activity_update(
            actor=self.request.user, activity=self.activity, **form.service_fields()
        )
        draft_saved(self.request)
        messages.success(self.request, "已保存。")
        return redirect("activity-detail", pk=self.activity.pk)


class ActivityAttendeesView(ActivityPage):
    """参加会员: tap the names; "全组" adds every member of a group on the activity's date
    (services.attendance_add_group)."""

    template_name = "activities/activity_attendees.html"

    def load(self, pk):
        super().load(pk)
        self.title = f"参加会员 · {self.activity}"

    def build_form(self, data=None):
        return AttendeesForm(data, activity=self.activity)

    alert = ""

    def extra_context(self):
        return {
            "activity": self.activity,
            "groups": list(node_groups(self.activity.association)),
            "alert": self.alert,
        }

    def post(self, request, **kwargs):
        raw = request.POST.get("whole_group")
        if raw is None:
            return super().post(request, **kwargs)
        self.load(**kwargs)
        permissions.require(self.check_permission())
        groups = node_groups(self.activity.association)
        group = groups.filter(pk=int(raw)).first() if raw.isdigit() else None
        if group is None:
            self.alert = "请选择本次活动所在组织的会员小组。"
            return self.render(self.build_form(), status=400)
        try:
            added = services.attendance_add_group(
                actor=request.user, activity=self.activity, group=group
            )
        except ValidationError as error:
            self.alert = "; ".join(error.messages)
            return self.render(self.build_form(), status=400)
        messages.success(request, f"{group.name}全组:新增参加会员 {added} 人。")
        return redirect("activity-attendees", pk=self.activity.pk)

    def perform(self, form):
        services.attendance_set(
            actor=self.request.user,
            activity=self.activity,
            members=list(form.cleaned_data["attendees"]),
        )
        draft_saved(self.request)
        messages.success(self.request, "参加会员已保存。")
        return redirect("activity-detail", pk=self.activity.pk)


class ActivityDeleteView(StaffView):
    """GET asks for confirmation; POST deletes (with its attendance rows and handouts)."""

    def _load(self, request, pk) -> Activity:
        activity = selectors.activity_get(actor=request.user, pk=pk)
        permissions.require(permissions.can_record_field_work(request.user, activity.association))
        return activity

    def get(self, request, pk):
        activity = self._load(request, pk)
        node = activity.association
        return render(
            request,
            "activities/confirm_delete.html",
            {
                "node": node,
                "breadcrumbs": node.lineage(),
                "title": f"删除活动 · {activity}",
                "what": f"活动“{activity}”及其 {activity.attendances.count()} 名参加会员、"
                f"{activity.handouts.count()} 项物资发放记录",
                "back_url": reverse("activity-detail", kwargs={"pk": activity.pk}),
            },
        )

    def post(self, request, pk):
        activity = self._load(request, pk)
        node = activity.association
        label = str(activity)
        services.activity_delete(actor=request.user, activity=activity)
        messages.success(request, f"已删除活动:{label}。")
        return redirect("node-activities", pk=node.pk)


class ActivityDetailView(StaffView):
    def get(self, request, pk):
        activity = selectors.activity_get(actor=request.user, pk=pk)
        node = activity.association
        attendees = list(selectors.activity_attendees(activity=activity))
        return render(
            request,
            "activities/activity_detail.html",
            {
                "activity": activity,
                "node": node,
                "breadcrumbs": node.lineage(),
                "attendees": attendees,
                "handouts": list(activity.handouts.all()),
                "recorded": recorded_by(activity),
                "can_edit": permissions.can_record_field_work(request.user, node),
                "groups": list(node_groups(node)) if node.level != Level.GROUP else [node],
                "attachment_card": activity_attachment_card(request, activity),
            },
        )
