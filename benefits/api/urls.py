"""The benefits app's API routes (basenames carry the `api-` prefix like the other apps')."""

from rest_framework.routers import DefaultRouter

from .funds import FundEntryViewSet, FundViewSet, LoanViewSet
from .workflow import BenefitNoticeViewSet, BenefitObjectionViewSet, EnrollmentViewSet

router = DefaultRouter()
router.register("benefits/funds", FundViewSet, basename="api-fund")
router.register("benefits/fund-entries", FundEntryViewSet, basename="api-fund-entry")
router.register("benefits/loans", LoanViewSet, basename="api-loan")
# the enrolment workflow: enrolments and their steps, public notices, objections
router.register("benefits/enrollments", EnrollmentViewSet, basename="api-enrollment")
router.register("benefits/notices", BenefitNoticeViewSet, basename="api-benefit-notice")
router.register("benefits/objections", BenefitObjectionViewSet, basename="api-benefit-objection")
