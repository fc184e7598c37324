"""The benefits app's API routes (basenames carry the `api-` prefix like the other apps')."""

from rest_framework.routers import DefaultRouter

from . import programs
from .funds import FundEntryViewSet, FundViewSet, LoanViewSet
from .payments import (
    BankAccountViewSet,
    DisbursementBatchViewSet,
    DisbursementViewSet,
    PaymentTotalsViewSet,
)
from .workflow import BenefitNoticeViewSet, BenefitObjectionViewSet, EnrollmentViewSet

router = DefaultRouter()
# funds and loans
router.register("benefits/funds", FundViewSet, basename="api-fund")
router.register("benefits/fund-entries", FundEntryViewSet, basename="api-fund-entry")
router.register("benefits/loans", LoanViewSet, basename="api-loan")
# payments
router.register("benefits/bank-accounts", BankAccountViewSet, basename="api-bank-account")
router.register("benefits/batches", DisbursementBatchViewSet, basename="api-disbursement-batch")
router.register("benefits/disbursements", DisbursementViewSet, basename="api-disbursement")
router.register("benefits/payment-totals", PaymentTotalsViewSet, basename="api-payment-totals")
# the enrolment workflow: enrolments and their steps, public notices, objections
router.register("benefits/enrollments", EnrollmentViewSet, basename="api-enrollment")
router.register("benefits/notices", BenefitNoticeViewSet, basename="api-benefit-notice")
router.register("benefits/objections", BenefitObjectionViewSet, basename="api-benefit-objection")

router.register("benefits/programs", programs.ProgramViewSet, basename="api-benefit-program")
router.register("benefits/candidates", programs.CandidateViewSet, basename="api-benefit-candidate")
router.register(
    "benefits/reconfirmations",
    programs.ReconfirmationViewSet,
    basename="api-benefit-reconfirmation",
)
