"""The platform operator's admin. The scope middleware enters the PLATFORM_OPERATOR unscoped context
for /admin/ when the user is the operator; nobody else is staff."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Association, ChangeRecord, User


@admin.register(Association)
class AssociationAdmin(admin.ModelAdmin):
    list_display = ["division_code", "name", "level", "kind", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["name", "division_code"]
    readonly_fields = ["county", "township", "village", "group", "parent", "level"]

    def has_add_permission(self, request):
        # Counties are opened with the platform page or `create_county`, nodes by services.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChangeRecord)
class ChangeRecordAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "object_type", "object_label", "actor_label", "source_label"]
    list_filter = ["action", "object_type"]

    @admin.display(description="来源", ordering="source")
    def source_label(self, record):
        return record.source_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ["username", "full_name", "role", "node", "is_active"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("组织与角色", {"fields": ["full_name", "node", "role", "phone"]}),
    ]
    readonly_fields = ["node"]
