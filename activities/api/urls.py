"""The activities app's API routes. Basenames carry an `api-` prefix, like the other apps'
APIs (the activities pages may use activity-list, activity-detail …; route names must be
unique)."""

from rest_framework.routers import DefaultRouter

from .attachments import ActivityAttachmentViewSet
from .views import ActivityViewSet, MaterialViewSet, ThemedDayViewSet, ThemeViewSet, VisitViewSet

router = DefaultRouter()
router.register("activities", ActivityViewSet, basename="api-activity")
router.register("visits", VisitViewSet, basename="api-visit")
router.register("activity-themes", ThemeViewSet, basename="api-activity-theme")
router.register("themed-days", ThemedDayViewSet, basename="api-themed-day")
router.register("materials", MaterialViewSet, basename="api-material")
router.register(
    "activity-attachments", ActivityAttachmentViewSet, basename="api-activity-attachment"
)
