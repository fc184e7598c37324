"""The households app's API routes. Basenames carry an `api-` prefix (like api-root, api-token):
the households pages already use person-list, person-detail, household-list, household-detail,
household-move and person-remove-from-household, and route names must be unique."""

from rest_framework.routers import DefaultRouter

from .views import FiguresViewSet, HouseholdViewSet, PersonViewSet

router = DefaultRouter()
router.register("persons", PersonViewSet, basename="api-person")
router.register("households", HouseholdViewSet, basename="api-household")
router.register("figures", FiguresViewSet, basename="api-figures")
