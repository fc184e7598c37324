from rest_framework.routers import DefaultRouter

from .views import AssociationViewSet, CouncilSeatViewSet, CouncilViewSet, MeViewSet

router = DefaultRouter()
router.register("associations", AssociationViewSet, basename="association")
router.register("councils", CouncilViewSet, basename="council")
router.register("council-seats", CouncilSeatViewSet, basename="council-seat")
router.register("me", MeViewSet, basename="me")
