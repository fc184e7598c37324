from rest_framework.routers import DefaultRouter

from .views import PeriodViewSet, SubmissionViewSet

router = DefaultRouter()
router.register("reports/periods", PeriodViewSet, basename="api-report-period")
router.register("reports/submissions", SubmissionViewSet, basename="api-report-submission")
