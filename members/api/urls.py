"""The members app's API routes. Basenames carry an `api-` prefix, like the households API:
the members pages use member-list, member-detail, member-leave, pairing-end, group-role-end …,
and route names must be unique."""

from rest_framework.routers import DefaultRouter

from .views import (
    CommendationViewSet,
    ContactHouseholdViewSet,
    GroupRoleViewSet,
    MemberViewSet,
    PairingViewSet,
    VolunteerTeamViewSet,
)

router = DefaultRouter()
router.register("members", MemberViewSet, basename="api-member")
router.register("group-roles", GroupRoleViewSet, basename="api-group-role")
router.register("contact-households", ContactHouseholdViewSet, basename="api-contact-household")
router.register("pairings", PairingViewSet, basename="api-pairing")
router.register("commendations", CommendationViewSet, basename="api-commendation")
router.register("volunteer-teams", VolunteerTeamViewSet, basename="api-volunteer-team")
