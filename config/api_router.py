"""/api/v1/: every app registers its viewsets here."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from activities.api.urls import router as activities_router
from associations.api.urls import router as associations_router
from associations.api.views import TokenView
from benefits.api.urls import router as benefits_router
from households.api.urls import router as households_router
from members.api.urls import router as members_router
from reports.api.urls import router as reports_router

router = DefaultRouter()
router.registry.extend(associations_router.registry)
router.registry.extend(households_router.registry)
router.registry.extend(members_router.registry)
router.registry.extend(activities_router.registry)
router.registry.extend(reports_router.registry)
router.registry.extend(benefits_router.registry)

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
