"""Two clerks confirm overlapping batches at the same moment, each in a transaction of its own
on a connection of its own: exactly one live line per beneficiary comes out, and neither
confirmation fails. The programme row is the queue: the first confirmation holds it (and here
holds it a while longer, so the second is certain to arrive while it does) and the second,
once it gets it, sees the first's lines and cancels its own for those beneficiaries.

Transactional (the threads' commits must be real), so this builds a county of its own: the
shared world's rows are emptied after such a test."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from associations.scope import Scope, activate
from benefits import payments_lines
from benefits import payments_services as services
from benefits.models import Disbursement, Enrollment, Program
from benefits.selectors import county_scope
from tests.conftest import PASSWORD, make_id_number

HOLD_SECONDS = 0.5


def _county():
    from associations.services import association_create, county_create
    from households.services import household_create, person_create

    county, admin = county_create(
        name="景县", division_code="131127", admin_username="cc_admin", admin_password=PASSWORD
    )
    persons, villages = [], []
    with activate(Scope.for_node(county)):
        for t in range(2):
            township = association_create(
                actor=admin, parent=county, name=f"景县{t + 1}镇", division_code=f"131127{100 + t}"
            )
            village = association_create(
                actor=admin,
                parent=township,
                name=f"景县{t + 1}镇1村",
                division_code=f"131127{100 + t}200",
            )
            villages.append(village)
            for h in range(3):
                household = household_create(
                    actor=admin, village=village, number=f"{t}{h:03d}", address="景县"
                )
                persons.append(
                    person_create(
                        actor=admin,
                        village=village,
                        household=household,
                        name=f"受助人{t}{h}",
                        id_number=make_id_number(
                            "131127", datetime.date(1960, 1 + h, 1 + t), 20 + h, "male"
                        ),
                        relation_to_head="head",
                    )
                )
    with activate(county_scope(county.pk)):
        program = Program.objects.create(
            county=county,
            name="奖励扶助(并发)",
            kind="allowance",
            frequency="yearly",
            standard_amount=Decimal("720"),
        )
    with activate(Scope.for_node(county)):
        for person in persons:
            enrollment = Enrollment(
                program=program,
                person=person,
                household=person.household,
                amount=Decimal("720"),
                status="enrolled",
                enrolled_on=datetime.date(2025, 1, 1),
            )
            enrollment.place_under(person.village)
            enrollment.save()
    return county, admin, program, persons


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_of_overlapping_batches_pay_each_beneficiary_once(monkeypatch):
    county, admin, program, persons = _county()
    with activate(Scope.for_node(county)):
        whole = services.batch_create(actor=admin, program=program, period="2026", node=county)
        # the first township's batch overlaps the county's in three lines
        first_township = persons[0].village.parent
        part = services.batch_create(
            actor=admin, program=program, period="2026", node=first_township
        )
    assert (whole.line_count, part.line_count) == (6, 3)

    locked = payments_lines.lock_program
    held = []

    def slow_lock(program_id, county_id):
        row = locked(program_id, county_id)
        held.append(time.monotonic())
        time.sleep(HOLD_SECONDS)  # hold the queue while the other clerk arrives
        return row

    monkeypatch.setattr(payments_lines, "lock_program", slow_lock)
    start = threading.Barrier(2)
    outcome: dict[int, object] = {}

    def confirm(batch):
        try:
            with activate(Scope.for_node(county)):
                start.wait(timeout=10)
                outcome[batch.pk] = services.batch_confirm(actor=admin, batch=batch)
        except Exception as error:  # reported below, not swallowed
            outcome[batch.pk] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(b,)) for b in (whole, part)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)

    errors = [o for o in outcome.values() if isinstance(o, Exception)]
    assert errors == []
    # the two held the programme one after the other, not together
    assert len(held) == 2 and held[1] - held[0] >= HOLD_SECONDS * 0.9
    assert time.monotonic() - began >= 2 * HOLD_SECONDS * 0.9

    with activate(Scope.for_node(county)):
        live = list(
            Disbursement.objects.filter(
                program=program, period="2026", status__in=("confirmed", "paid")
            ).values_list("person_id", flat=True)
        )
        cancelled = Disbursement.objects.filter(
            program=program, status="cancelled", failure_reason=services.ALREADY_PAID
        ).count()
    assert sorted(live) == sorted(p.pk for p in persons)  # six people, once each
    assert cancelled == 3  # the three of the first township, in whichever batch came second
    counts = sorted((o.confirmed_count, o.cancelled_count) for o in outcome.values())
    assert counts in ([(0, 3), (6, 0)], [(3, 0), (3, 3)])
