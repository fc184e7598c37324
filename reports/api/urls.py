from rest_framework.routers import DefaultRouter

from .runs import ReportRunViewSet, SnapshotNodeViewSet
from .views import PeriodViewSet, SubmissionViewSet

router = DefaultRouter()
router.register("reports/runs", ReportRunViewSet, basename="api-report-run")
router.register("reports/nodes", SnapshotNodeViewSet, basename="api-report-node")
router.register("reports/periods", PeriodViewSet, basename="api-report-period")
router.register("reports/submissions", SubmissionViewSet, basename="api-report-submission")
