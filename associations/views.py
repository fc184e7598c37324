"""Pages of the associations app: the tree browser, node pages, councils, staff accounts and
the platform operator's county pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views import View

from . import history, permissions, selectors, services
from .accounts import lockout
from .forms import (
    AssociationForm,
    CouncilForm,
    CouncilSeatForm,
    CountyForm,
    MoveForm,
    StaffForm,
    add_service_errors,
)
from .models import Association, Level, Role


class StaffView(LoginRequiredMixin, View):
    """A page of county data: only for accounts that sit at a node (the operator has none)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.node_id:
            raise PermissionDenied("平台运维账号不属于任何县,请使用平台管理页面。")
        return super().dispatch(request, *args, **kwargs)


class ServiceFormView(StaffView):
    """GET shows the form; POST calls the service and redirects, or shows its errors on the
    form with everything the user typed still there."""

    template_name = ""

    def build_form(self, data=None):
        raise NotImplementedError

    def perform(self, form):
        raise NotImplementedError

    def context(self) -> dict:
        return {}

    def check_permission(self) -> bool:
        return True

    def load(self, **kwargs) -> None:
        """Fetch the objects the page is about (through selectors: 404 out of scope)."""

    def get(self, request, **kwargs):
        self.load(**kwargs)
        permissions.require(self.check_permission())
        return self.render(self.build_form())

    def post(self, request, **kwargs):
        self.load(**kwargs)
        permissions.require(self.check_permission())
        form = self.build_form(request.POST)
        if form.is_valid():
            try:
                return self.perform(form)
            except ValidationError as error:
                add_service_errors(form, error)
        return self.render(form, status=400)

    def render(self, form, status=200):
        return render(
            self.request, self.template_name, {"form": form, **self.context()}, status=status
        )


@login_required
def home(request):
    if request.user.is_platform_operator:
        return redirect("platform-counties")
    if not request.user.node_id:
        raise PermissionDenied("该账号尚未分配组织节点,请联系县级管理员。")
    if request.user.role == Role.GROUP_LEADER:
        return redirect("leader-start")  # activities/start_views.py: this month's duties
    return redirect("node-detail", pk=request.user.node_id)


class NodeDetailView(StaffView):
    def get(self, request, pk):
        node = selectors.association_get(actor=request.user, pk=pk)
        council = selectors.current_council(association=node)
        context = {
            "node": node,
            "breadcrumbs": node.ancestors(),
            "children": selectors.association_children(node=node),
            "counts": selectors.subtree_counts(node=node),
            "council": council,
            "council_check": council and selectors.council_model_check(council=council),
            "history": history.redacted(selectors.node_history(node=node, limit=10), request.user),
            "can_edit": permissions.can_edit_node(request.user, node),
            "can_record_field_work": permissions.can_record_field_work(request.user, node),
            "can_create_child": permissions.can_create_child(request.user, node),
            "can_move": permissions.can_move_node(request.user)
            and node.level in (Level.VILLAGE, Level.GROUP),
            "child_level_label": node.child_level and node.child_level.label,
            "level_labels": dict(Level.choices),
        }
        return render(request, "associations/node_detail.html", context)


class NodeTreeView(StaffView):
    def get(self, request, pk):
        node = selectors.association_get(actor=request.user, pk=pk)
        nodes = selectors.whole_subtree(node=node)
        children: dict[int, list[Association]] = {}
        for n in nodes:
            children.setdefault(n.parent_id, []).append(n)
        for n in nodes:
            n.tree_children = children.get(n.pk, [])
        root = next(n for n in nodes if n.pk == node.pk)
        return render(
            request,
            "associations/node_tree.html",
            {
                "node": node,
                "root": root,
                "breadcrumbs": node.lineage(),
                "total": len(nodes),
            },
        )


class NodeCreateView(ServiceFormView):
    template_name = "associations/node_form.html"

    def load(self, pk):
        self.parent = selectors.association_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return permissions.can_create_child(self.request.user, self.parent)

    def build_form(self, data=None):
        initial = {"division_code": selectors.next_child_code(parent=self.parent)}
        return AssociationForm(data, initial=initial, level=self.parent.child_level)

    def perform(self, form):
        node = services.association_create(
            actor=self.request.user, parent=self.parent, **form.cleaned_data
        )
        messages.success(self.request, f"已新建{node.get_level_display()}“{node.name}”。")
        return redirect("node-detail", pk=node.pk)

    def context(self):
        return {
            "node": self.parent,
            "breadcrumbs": self.parent.lineage(),
            "title": f"新建{self.parent.child_level.label}",
        }


class NodeEditView(ServiceFormView):
    template_name = "associations/node_form.html"

    def load(self, pk):
        self.node = selectors.association_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return permissions.can_edit_node(self.request.user, self.node)

    def build_form(self, data=None):
        return AssociationForm(data, instance=self.node, level=self.node.level)

    def perform(self, form):
        services.association_update(
            actor=self.request.user, association=self.node, **form.cleaned_data
        )
        messages.success(self.request, "已保存。")
        return redirect("node-detail", pk=self.node.pk)

    def context(self):
        return {
            "node": self.node,
            "breadcrumbs": self.node.lineage(),
            "title": f"修改{self.node.name}",
        }


class NodeMoveView(ServiceFormView):
    template_name = "associations/node_move.html"

    def load(self, pk):
        self.node = selectors.association_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return permissions.can_move_node(self.request.user)

    def build_form(self, data=None):
        return MoveForm(data, node=self.node)

    def perform(self, form):
        services.association_move(
            actor=self.request.user, association=self.node, **form.cleaned_data
        )
        messages.success(self.request, f"已将“{self.node.name}”调整到新的上级。")
        return redirect("node-detail", pk=self.node.pk)

    def context(self):
        return {
            "node": self.node,
            "breadcrumbs": self.node.lineage(),
            "title": f"区划调整:{self.node.name}",
        }


class NodeHistoryView(StaffView):
    def get(self, request, pk):
        node = selectors.association_get(actor=request.user, pk=pk)
        page = Paginator(selectors.node_history(node=node, limit=None), 30).get_page(
            request.GET.get("page")
        )
        page.object_list = history.redacted(page.object_list, request.user)
        return render(
            request,
            "associations/node_history.html",
            {"node": node, "breadcrumbs": node.lineage(), "page": page},
        )


class CouncilView(StaffView):
    def get(self, request, pk):
        # Imported here: the attachment views build on StaffView, defined in this module.
        from .council_attachments import council_attachment_card

        node = selectors.association_get(actor=request.user, pk=pk)
        council = selectors.current_council(association=node)
        return render(
            request,
            "associations/council.html",
            {
                "attachment_card": council and council_attachment_card(request, council),
                "node": node,
                "breadcrumbs": node.lineage(),
                "council": council,
                "council_check": council and selectors.council_model_check(council=council),
                "terms": selectors.council_list(association=node),
                "can_manage": permissions.can_manage_council(request.user, node)
                and node.level != Level.GROUP,
            },
        )


class CouncilCreateView(ServiceFormView):
    template_name = "associations/simple_form.html"

    def load(self, pk):
        self.node = selectors.association_get(actor=self.request.user, pk=pk)

    def check_permission(self):
        return permissions.can_manage_council(self.request.user, self.node)

    def build_form(self, data=None):
        latest = selectors.current_council(association=self.node)
        initial = {"term_number": latest.term_number + 1 if latest else 1}
        return CouncilForm(data, initial=initial)

    def perform(self, form):
        services.council_create(actor=self.request.user, association=self.node, **form.cleaned_data)
        messages.success(self.request, "已新建一届理事会。")
        return redirect("council", pk=self.node.pk)

    def context(self):
        return {
            "node": self.node,
            "breadcrumbs": self.node.lineage(),
            "title": "新一届理事会",
        }


class CouncilEditView(ServiceFormView):
    template_name = "associations/simple_form.html"

    def load(self, pk):
        self.council = selectors.council_get(pk=pk)
        self.node = self.council.association

    def check_permission(self):
        return permissions.can_manage_council(self.request.user, self.node)

    def build_form(self, data=None):
        return CouncilForm(data, instance=self.council)

    def perform(self, form):
        services.council_update(actor=self.request.user, council=self.council, **form.cleaned_data)
        messages.success(self.request, "已保存。")
        return redirect("council", pk=self.node.pk)

    def context(self):
        return {
            "node": self.node,
            "breadcrumbs": self.node.lineage(),
            "title": f"修改第{self.council.term_number}届理事会",
        }


class SeatCreateView(ServiceFormView):
    template_name = "associations/simple_form.html"

    def load(self, pk):
        self.council = selectors.council_get(pk=pk)
        self.node = self.council.association

    def check_permission(self):
        return permissions.can_manage_council(self.request.user, self.node)

    def build_form(self, data=None):
        return CouncilSeatForm(data)

    def perform(self, form):
        services.council_seat_add(
            actor=self.request.user, council=self.council, **form.cleaned_data
        )
        messages.success(self.request, "已添加理事会成员。")
        return redirect("council", pk=self.node.pk)

    def context(self):
        return {
            "node": self.node,
            "breadcrumbs": self.node.lineage(),
            "title": f"添加第{self.council.term_number}届理事会成员",
        }


class SeatEditView(ServiceFormView):
    template_name = "associations/simple_form.html"

    def load(self, pk):
        self.seat = selectors.seat_get(pk=pk)
        self.node = self.seat.council.association

    def check_permission(self):
        return permissions.can_manage_council(self.request.user, self.node)

    def build_form(self, data=None):
        return CouncilSeatForm(data, instance=self.seat)

    def perform(self, form):
        services.council_seat_update(actor=self.request.user, seat=self.seat, **form.cleaned_data)
        messages.success(self.request, "已保存。")
        return redirect("council", pk=self.node.pk)

    def context(self):
        return {
            "node": self.node,
            "breadcrumbs": self.node.lineage(),
            "title": f"修改理事会成员:{self.seat.person_name}",
            "delete_url_name": "seat-delete",
            "object": self.seat,
        }


class SeatDeleteView(StaffView):
    def post(self, request, pk):
        seat = selectors.seat_get(pk=pk)
        node = seat.council.association
        services.council_seat_remove(actor=request.user, seat=seat)
        messages.success(request, f"已将{seat.person_name}移出理事会。")
        return redirect("council", pk=node.pk)


class StaffListView(StaffView):
    def get(self, request):
        permissions.require(permissions.can_manage_users(request.user))
        staff = list(selectors.staff_list(actor=request.user))
        return render(
            request,
            "associations/staff_list.html",
            {
                "staff": staff,
                "locked": lockout.locked_usernames(u.username for u in staff),
                "failure_limit": settings.AXES_FAILURE_LIMIT,
                "lockout_minutes": lockout.lockout_minutes(),
            },
        )


class StaffCreateView(ServiceFormView):
    template_name = "associations/simple_form.html"

    def check_permission(self):
        return permissions.can_manage_users(self.request.user)

    def build_form(self, data=None):
        return StaffForm(data)

    def perform(self, form):
        user = services.user_create(actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, f"已创建账号 {user.username}。")
        return redirect("staff-list")

    def context(self):
        return {"title": "新建账号"}


class PlatformView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_see_platform(request.user):
            raise PermissionDenied("只有平台运维人员可以访问。")
        return super().dispatch(request, *args, **kwargs)


class PlatformCountyListView(PlatformView):
    def get(self, request):
        # The middleware has entered the PLATFORM_OPERATOR unscoped context for /platform/ pages.
        counties = Association.objects.filter(level=Level.COUNTY).order_by("division_code")
        return render(request, "associations/platform_counties.html", {"counties": counties})


class PlatformCountyCreateView(PlatformView):
    def get(self, request):
        return render(request, "associations/platform_county_form.html", {"form": CountyForm()})

    def post(self, request):
        form = CountyForm(request.POST)
        if form.is_valid():
            try:
                county, admin = services.county_create(**form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"已开通“{county.name}”,管理员账号为 {admin.username}。")
                return redirect("platform-counties")
        return render(request, "associations/platform_county_form.html", {"form": form}, status=400)
