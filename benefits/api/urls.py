"""The benefits app's API routes (basenames carry the `api-` prefix like the other apps')."""

from rest_framework.routers import DefaultRouter

from . import programs

router = DefaultRouter()
router.register("benefits/programs", programs.ProgramViewSet, basename="api-benefit-program")
router.register("benefits/candidates", programs.CandidateViewSet, basename="api-benefit-candidate")
router.register(
    "benefits/reconfirmations",
    programs.ReconfirmationViewSet,
    basename="api-benefit-reconfirmation",
)
