"""Care subsidies (利益导向 / 生育关怀): programmes, enrolments and their workflow with public
notice, disbursement batches whose lines never pay a beneficiary twice, loans that are re-lent
as they are repaid, and funds kept as an append-only ledger that never goes below zero.

The database keeps the money rules, not only the services:
- a second live payment line for the same beneficiary, programme and period is refused by a
  partial unique index (failed and cancelled lines do not count, so a failed payment can be
  re-issued);
- a fund's balance is kept by a trigger on its ledger and a CHECK refuses a negative one, so two
  expenses racing cannot overdraw it; ledger entries refuse UPDATE and DELETE (migration 0002).

Programmes and funds sit at the county node; enrolments, notices, lines and loans sit at the
beneficiary's village (and group), so village and township staff see their own subtree."""

from .enrollments import (
    LIVE_ENROLLMENT,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Objection,
    PublicNotice,
    Reconfirmation,
)
from .funds import Fund, FundEntry, Installment, Loan, Repayment
from .payments import (
    LIVE_LINE,
    BankAccount,
    BatchStatus,
    Disbursement,
    DisbursementBatch,
    LineStatus,
)
from .programs import (
    MONEY,
    POSITIVE,
    BeneficiaryKind,
    Frequency,
    Program,
    ProgramKind,
    ProgramRate,
    ProgramTemplate,
)

__all__ = [
    "LIVE_ENROLLMENT",
    "LIVE_LINE",
    "MONEY",
    "POSITIVE",
    "BankAccount",
    "BatchStatus",
    "BeneficiaryKind",
    "Disbursement",
    "DisbursementBatch",
    "Enrollment",
    "EnrollmentEvent",
    "EnrollmentStatus",
    "Frequency",
    "Fund",
    "FundEntry",
    "Installment",
    "LineStatus",
    "Loan",
    "Objection",
    "Program",
    "ProgramKind",
    "ProgramRate",
    "ProgramTemplate",
    "PublicNotice",
    "Reconfirmation",
    "Repayment",
]
