"""The household roster as an import kind (households.imports): declared by the households
app and registered with the pipeline; the village column is required above a village; the
constraints of persons and households have causes in words."""

from __future__ import annotations

import io

import openpyxl
import pytest

from associations import imports
from households.imports import HouseholdRosterResource

pytestmark = pytest.mark.django_db


def test_the_household_roster_is_registered(world):
    kind = imports.get_kind("households")
    assert (kind.key, kind.label, kind.resource) == (
        "households",
        "家庭户成员名册",
        HouseholdRosterResource,
    )
    assert list(imports.KINDS) == ["members", "households"]  # the upload page's order
    village_columns = {c.key: c.required for c in kind.columns_for(world.a.villages[0])}
    county_columns = {c.key: c.required for c in kind.columns_for(world.a.county)}
    assert not village_columns["village"] and county_columns["village"]
    assert village_columns["household_number"] and village_columns["relation_to_head"]
    with pytest.raises(KeyError):
        imports.get_kind("nothing")


def test_its_codes_and_constraints_are_in_words():
    kind = imports.get_kind("households")
    assert imports.ROW_CODES["MOTHER_TOO_YOUNG"] == kind.code_labels["MOTHER_TOO_YOUNG"]
    assert imports.ROW_CODES["ID_NUMERIC_CELL"] == "身份证号码被 Excel 存成了数字"
    cause, field = kind.constraints["person_id_unique_in_county"]
    assert "已由他人同时录入" in cause and field == "id_number"
    assert "household_number_unique_in_village" in kind.constraint_causes


def test_its_template_carries_the_mother_note():
    book = openpyxl.load_workbook(io.BytesIO(imports.template_workbook("households")))
    notes = [c.value for row in book["填写说明及可选值"].iter_rows() for c in row if c.value]
    assert any(str(n).startswith("9. 母亲身份证号码可不填") for n in notes)
    assert "会员类别" not in [c.value for c in book["填写说明及可选值"][1]]
