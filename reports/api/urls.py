from rest_framework.routers import DefaultRouter

from .runs import ReportRunViewSet, SnapshotNodeViewSet

router = DefaultRouter()
router.register("reports/runs", ReportRunViewSet, basename="api-report-run")
router.register("reports/nodes", SnapshotNodeViewSet, basename="api-report-node")
