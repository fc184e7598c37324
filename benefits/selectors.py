"""Scoped reads shared by every part of benefits.

Programmes and funds sit at the county node (county key only), so a township's or village's
own scope cannot see them; like the activities catalogues, they are read under the county's
scope of the actor. Everything else (enrolments, notices, lines, loans) sits at the
beneficiary's village and goes through the actor's own scope: another county's or a sibling
village's row is a 404."""

from __future__ import annotations

from django.http import Http404

from associations.models import Level
from associations.scope import Scope, activate

from .models import Fund, Program


def county_scope(county_id: int) -> Scope:
    return Scope(county_id=county_id, node_id=county_id, level=Level.COUNTY)


def program_list(*, actor, active_only: bool = False) -> list[Program]:
    with activate(county_scope(actor.county_id)):
        programs = Program.objects.prefetch_related("rates").select_related("fund")
        if active_only:
            programs = programs.filter(is_active=True)
        return list(programs.order_by("id"))


def program_get(*, actor, pk) -> Program:
    with activate(county_scope(actor.county_id)):
        try:
            return Program.objects.prefetch_related("rates").select_related("fund").get(pk=pk)
        except (Program.DoesNotExist, ValueError, TypeError):
            raise Http404("没有这个扶助项目。") from None


def fund_get(*, actor, pk) -> Fund:
    with activate(county_scope(actor.county_id)):
        try:
            return Fund.objects.get(pk=pk)
        except (Fund.DoesNotExist, ValueError, TypeError):
            raise Http404("没有这个基金。") from None
