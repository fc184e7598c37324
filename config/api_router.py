"""/api/v1/: every app registers its viewsets here."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from associations.api.urls import router as associations_router
from associations.api.views import TokenView

router = DefaultRouter()
router.registry.extend(associations_router.registry)

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
