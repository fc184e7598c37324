"""Forms of the activity and home visit pages, made for a phone: kinds, themes and purposes
as tappable chips (radio buttons), attendees as checkbox chips of the node's members,
numbers on the digit keyboard, the date defaulting to today. The county's catalogues
(themes, themed days, materials) sit at the county node, out of a village's scope filter:
they come from activities.catalogues as plain choices."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from associations.forms import DateInput
from associations.models import Association, Level
from associations.submissions import FormTokenField
from households.models import Household
from members.models import GroupRole, Member

from . import catalogues
from .models import Activity, HomeVisit
from .selectors import under
from .services import group_members_on

DIGITS = {"inputmode": "numeric", "pattern": "[0-9]*", "min": 0, "autocomplete": "off"}
MAX_COUNT = 100_000


def digits_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_COUNT,
        widget=forms.NumberInput(attrs=DIGITS),
        error_messages={
            "invalid": "请填写整数。",
            "min_value": "不能为负数。",
            "max_value": f"不能超过 {MAX_COUNT}。",
        },
    )


def date_field(label: str, *, required=True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        error_messages={
            "required": f"请填写{label}。",
            "invalid": "日期格式不对,例如 2025-03-08。",
        },
    )


def chips(choices, *, label: str, required=True, message="") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=required,
        widget=forms.RadioSelect,
        error_messages={
            "required": message or f"请选择{label}。",
            "invalid_choice": f"请从列出的{label}中选择。",
        },
    )


class MemberChoices(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple
    default_error_messages = {
        "invalid_choice": "所选会员不是本组织的在册会员,请从列出的会员中点选。",
        "invalid_pk_value": "所选会员不是本组织的在册会员,请从列出的会员中点选。",
    }

    def label_from_instance(self, obj: Member) -> str:
        return obj.person.name


TAPPABLE_LEVELS = (Level.VILLAGE, Level.GROUP)  # whose members fit on a phone as chips


def node_members(node: Association, keep=()) -> forms.models.QuerySet:
    """The members under the node who are on the roll today, group by group (plus `keep`:
    members already on the record, who may have left since). Above a village (thousands of
    members) only `keep`: a township's or county's activity keeps its attendees (recorded by
    import or the API) but does not offer the county's members as chips."""
    on_roll = Q(status=Member.Status.ACTIVE, left_on__isnull=True)
    if node.level not in TAPPABLE_LEVELS:
        on_roll = Q(pk__in=[])
    return (
        Member.objects.filter(**under(node))
        .filter(on_roll | Q(pk__in=list(keep)))
        .select_related("person")
        .order_by("group_id", "member_number", "id")
    )


def node_groups(node: Association):
    """The groups whose "全组" a village's or group's activity offers (none above)."""
    if node.level not in TAPPABLE_LEVELS:
        return Association.objects.none()
    return Association.objects.filter(level=Level.GROUP, **under(node)).order_by("division_code")


# --- activities ------------------------------------------------------------------------------


class ActivityForm(forms.Form):
    """One short form: kind, date (today), theme and attendees by tapping; the rest folded."""

    kind = chips(Activity.Kind.choices, label="活动类别")
    meeting_type = chips(
        Activity.MeetingType.choices, label="会议类型", required=False, message="请选择会议类型。"
    )
    service_type = chips(Activity.ServiceType.choices, label="服务类型", required=False)
    date = date_field("活动日期")
    theme = chips([], label="主题", required=False)
    themed_day = chips([], label="主题日", required=False)
    attendees = MemberChoices(label="参加会员", queryset=Member.objects.none(), required=False)
    whole_groups = forms.ModelMultipleChoiceField(
        label="全组参加",
        queryset=Association.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="选中后,该组活动当天所有在册会员都登记为参加会员。",
    )
    participants = digits_field("参加人数")
    consultations = digits_field("咨询人次")
    trainees = digits_field("培训人数")
    title = forms.CharField(label="活动名称", max_length=100, required=False)
    place = forms.CharField(label="地点", max_length=200, required=False)
    organiser = forms.CharField(label="组织者", max_length=100, required=False)
    end_date = date_field("结束日期", required=False)
    summary = forms.CharField(
        label="活动内容或会议纪要", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    form_token = FormTokenField()

    MAIN = ("kind", "meeting_type", "service_type", "date", "theme")
    NUMBERS = ("participants", "consultations", "trainees")
    MORE = ("title", "place", "organiser", "themed_day", "end_date", "summary")

    def __init__(self, data=None, *, node: Association, activity: Activity | None = None, **kw):
        self.node = node
        self.activity = activity
        if activity is not None:
            kw.setdefault("initial", self.initial_for(activity))
        else:
            kw.setdefault("initial", {"date": timezone.localdate()})
        super().__init__(data, **kw)
        county_id = node.county_id
        self.themes = {str(t.pk): t for t in catalogues.themes(county_id=county_id)}
        self.days = {str(d.pk): d for d in catalogues.themed_days(county_id=county_id)}
        self.materials = catalogues.materials(county_id=county_id)
        if activity is not None:
            # a retired theme or day stays selectable on the activity that uses it
            if activity.theme_id and str(activity.theme_id) not in self.themes:
                self.themes[str(activity.theme_id)] = activity.theme
            if activity.themed_day_id and str(activity.themed_day_id) not in self.days:
                self.days[str(activity.themed_day_id)] = activity.themed_day
        self.fields["theme"].choices = [("", "无"), *((k, t.name) for k, t in self.themes.items())]
        self.fields["themed_day"].choices = [
            ("", "无"),
            *((k, f"{d.month}.{d.day} {d.name}") for k, d in self.days.items()),
        ]
        keep = [a.member_id for a in activity.attendances.all()] if activity else []
        self.fields["attendees"].queryset = node_members(node, keep)
        if node.level not in TAPPABLE_LEVELS and not keep:
            del self.fields["attendees"]
        self.groups = list(node_groups(node))
        if self.groups:
            self.fields["whole_groups"].queryset = node_groups(node)
            self.fields["whole_groups"].label_from_instance = lambda g: f"{g.name}全组"
        else:
            del self.fields["whole_groups"]
        current = {h.material_id: h.quantity for h in activity.handouts.all()} if activity else {}
        for material in self.materials:
            field = digits_field(f"{material.name}({material.unit})")
            field.initial = current.get(material.pk)
            self.fields[self.material_key(material)] = field
        if activity is not None:
            for material in {h.material for h in activity.handouts.all()} - set(self.materials):
                self.materials.append(material)  # retired since: keep its quantity editable
                field = digits_field(f"{material.name}({material.unit})")
                field.initial = current.get(material.pk)
                self.fields[self.material_key(material)] = field

    @staticmethod
    def material_key(material) -> str:
        return f"material_{material.pk}"

    @staticmethod
    def initial_for(activity: Activity) -> dict:
        return {
            **{f: getattr(activity, f) for f in ("kind", "meeting_type", "service_type", "date")},
            **{f: getattr(activity, f) for f in ("participants", "consultations", "trainees")},
            **{f: getattr(activity, f) for f in ("title", "place", "organiser", "end_date")},
            "summary": activity.summary,
            "theme": activity.theme_id or "",
            "themed_day": activity.themed_day_id or "",
            "attendees": [a.member_id for a in activity.attendances.all()],
        }

    def bound(self, names):
        return [self[name] for name in names if name in self.fields]

    def main_fields(self):
        return self.bound(self.MAIN)

    def number_fields(self):
        return self.bound(self.NUMBERS)

    def more_fields(self):
        return self.bound(self.MORE)

    def material_fields(self):
        return [self[self.material_key(m)] for m in self.materials]

    def more_open(self) -> bool:
        return any(self[name].errors or self[name].value() for name in ("end_date", "summary"))

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Activity.Kind.MEETING and not data.get("meeting_type"):
            self.add_error("meeting_type", "会议请选择会议类型。")
        if kind == Activity.Kind.SERVICE and not data.get("service_type"):
            self.add_error("service_type", "服务请选择服务类型。")
        return data

    def service_fields(self) -> dict:
        """What activity_create / activity_update take."""
        data = self.cleaned_data
        kind = data["kind"]
        fields = {
            "kind": kind,
            "date": data["date"],
            "meeting_type": data.get("meeting_type") or "" if kind == "meeting" else "",
            "service_type": data.get("service_type") or "" if kind == "service" else "",
            "theme": self.themes.get(data.get("theme") or ""),
            "themed_day": self.days.get(data.get("themed_day") or ""),
            "end_date": data.get("end_date"),
            "attendees": list(data.get("attendees") or []) if "attendees" in self.fields else None,
            "whole_groups": list(data.get("whole_groups") or []),
            "materials": {m: data.get(self.material_key(m)) or 0 for m in self.materials},
        }
        for name in ("title", "place", "organiser", "summary"):
            fields[name] = data.get(name) or ""
        for name in self.NUMBERS:
            fields[name] = data.get(name) or 0
        if data.get("participants") is None:
            # left empty: the members tapped (and the whole groups chosen) took part
            taking_part = {m.pk for m in fields["attendees"] or []}
            taking_part |= {m.pk for m in group_members_on(fields["whole_groups"], data["date"])}
            fields["participants"] = len(taking_part)
        return fields


class AttendeesForm(forms.Form):
    """The attendee list of one activity, by tapping names."""

    attendees = MemberChoices(label="参加会员", queryset=Member.objects.none(), required=False)

    def __init__(self, data=None, *, activity: Activity, **kw):
        current = [a.member_id for a in activity.attendances.all()]
        kw.setdefault("initial", {"attendees": current})
        super().__init__(data, **kw)
        self.fields["attendees"].queryset = node_members(activity.association, current)


# --- home visits -----------------------------------------------------------------------------


def current_leader_id(group: Association, day: datetime.date) -> int | None:
    return (
        GroupRole.objects.filter(group=group, role=GroupRole.Role.LEADER, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .order_by("-starts_on")
        .values_list("member_id", flat=True)
        .first()
    )


class VisitorChoice(forms.ModelChoiceField):
    widget = forms.RadioSelect

    def label_from_instance(self, obj: Member) -> str:
        return obj.person.name


class HouseholdChoice(forms.ModelChoiceField):
    """The household: its id, sent by a chip of the group's list or of the search results.
    Only households of the node's village are accepted (and the scope hides the others)."""

    widget = forms.HiddenInput


class VisitForm(forms.Form):
    household = HouseholdChoice(
        label="走访户",
        queryset=Household.objects.none(),
        error_messages={
            "required": "请选择走访的家庭户(点选本组家庭户或搜索)。",
            "invalid_choice": "没有找到这个家庭户,请重新选择。",
        },
    )
    visitor = VisitorChoice(
        label="走访人",
        queryset=Member.objects.none(),
        empty_label=None,
        error_messages={
            "required": "请选择走访人。",
            "invalid_choice": "请从列出的会员中选择走访人。",
        },
    )
    visited_on = date_field("走访日期")
    purpose = chips(HomeVisit.Purpose.choices, label="走访目的")
    notes = forms.CharField(
        label="走访情况", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    follow_up_needed = forms.BooleanField(label="需要跟进", required=False)
    follow_up_done_on = date_field("跟进完成日期", required=False)
    form_token = FormTokenField()

    def __init__(self, data=None, *, node: Association, visit: HomeVisit | None = None, **kw):
        self.node = node
        self.visit = visit
        today = timezone.localdate()
        if visit is not None:
            initial = {
                "household": visit.household_id,
                "visitor": visit.visitor_id,
                "visited_on": visit.visited_on,
                "purpose": visit.purpose,
                "notes": visit.notes,
                "follow_up_needed": visit.follow_up_needed,
                "follow_up_done_on": visit.follow_up_done_on,
            }
        else:
            leader = current_leader_id(node, today) if node.level == Level.GROUP else None
            initial = {"visited_on": today, "visitor": leader}
        kw.setdefault("initial", initial)
        super().__init__(data, **kw)
        village_id = node.village_id if node.level == Level.GROUP else node.pk
        self.fields["household"].queryset = Household.objects.filter(
            village_id=village_id
        ).select_related("head")
        keep = [visit.visitor_id] if visit else []
        self.fields["visitor"].queryset = node_members(node, keep)
        if visit is not None:
            # the visitor is not changed on a visit: record another visit instead
            self.fields["visitor"].disabled = True
            self.fields["visitor"].queryset = node_members(node, keep).filter(pk=visit.visitor_id)

    def visitor_options(self) -> list[dict]:
        """The visitors offered as chips: a group's members; in a village, the members who
        lead a group today (any other member of the village is accepted when sent, e.g. the
        one a re-shown form names)."""
        queryset = self.fields["visitor"].queryset
        if self.node.level != Level.GROUP and self.visit is None:
            leaders = GroupRole.objects.filter(
                role=GroupRole.Role.LEADER, ends_on__isnull=True, **under(self.node)
            ).values("member_id")
            chosen = self["visitor"].value()
            chosen = [int(chosen)] if str(chosen or "").isdigit() else []
            queryset = queryset.filter(Q(pk__in=leaders) | Q(pk__in=chosen))
        value = str(self["visitor"].value() or "")
        return [
            {"pk": m.pk, "name": m.person.name, "checked": str(m.pk) == value}
            for m in queryset[:200]
        ]

    def clean(self):
        data = super().clean()
        if data.get("follow_up_done_on") and not data.get("follow_up_needed"):
            self.add_error("follow_up_done_on", "未勾选需要跟进,不能填写跟进完成日期。")
        return data

    def chosen_household(self) -> Household | None:
        """The household the form names (sent or initial), for its chip on a re-shown form."""
        raw = self["household"].value()
        if raw in (None, ""):
            return None
        try:
            return self.fields["household"].queryset.filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            return None

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "household": data["household"],
            "visited_on": data["visited_on"],
            "purpose": data["purpose"],
            "notes": data.get("notes") or "",
            "follow_up_needed": bool(data.get("follow_up_needed")),
            "follow_up_done_on": data.get("follow_up_done_on"),
        }


def validation_message(error: ValidationError) -> str:
    return "; ".join(error.messages)
