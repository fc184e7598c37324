"""Schemes, versions and indicators: who may change them, the Chinese refusals, the default
scheme from the seeds, and a version in use that neither the services nor the database let
anyone change."""

import re
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from associations.models import ChangeRecord
from reports import services
from reports.defaults import DEFAULT_INDICATORS, DEFAULT_NAME, scheme_create_default
from reports.indicators import REGISTRY
from reports.models import AssessmentScheme, Rule, SchemeIndicator, SchemeVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(world):
    with world.a.scope():
        yield world.a


@pytest.fixture
def admin(a):
    return a.users["county_admin"]


@pytest.fixture
def draft(a, admin):
    scheme = services.scheme_create(actor=admin, county=a.county, year=2027, name="试行细则")
    return scheme.versions.get()


def add(admin, version, key="council_quarterly", **fields):
    values = {"max_score": D("10"), "rule": Rule.MET, "threshold": D("100"), **fields}
    return services.indicator_add(actor=admin, version=version, key=key, **values)


# --- creating -------------------------------------------------------------------------------


def test_a_new_scheme_has_a_first_draft_version(a, admin, draft):
    assert (draft.number, draft.state) == (1, SchemeVersion.State.DRAFT)
    assert (draft.first_class_min, draft.qualified_min) == (D("90"), D("70"))
    assert (draft.president_pay_held, draft.leader_pay_held) == (D("50"), D("10"))
    assert draft.county_id == a.county.pk and draft.township_id is None
    assert ChangeRecord.objects.filter(object_type="reports.AssessmentScheme").count() >= 1


def test_scheme_names_are_unique_per_county_and_year(a, admin, draft):
    with pytest.raises(ValidationError, match="2027年已有名为“试行细则”的考核细则"):
        services.scheme_create(actor=admin, county=a.county, year=2027, name="试行细则")
    services.scheme_create(actor=admin, county=a.county, year=2028, name="试行细则")


def test_grade_lines_must_be_ordered(a, admin):
    with pytest.raises(ValidationError) as error:
        services.scheme_create(
            actor=admin, county=a.county, year=2027, name="x", first_class_min=70, qualified_min=80
        )
    assert error.value.message_dict == {"first_class_min": ["一流村协会分数线应高于合格分数线。"]}


def test_only_the_county_admin_changes_schemes(a, draft):
    for role in ("county_viewer",):
        with pytest.raises(PermissionDenied):
            services.scheme_create(actor=a.users[role], county=a.county, year=2027, name="y")
        with pytest.raises(PermissionDenied):
            add(a.users[role], draft)


def test_schemes_are_made_at_the_county_only(a, admin):
    with pytest.raises(ValidationError, match="考核细则由县级协会制定"):
        services.scheme_create(actor=admin, county=a.townships[0], year=2027, name="z")


# --- indicators -----------------------------------------------------------------------------


def test_a_computed_indicator_takes_its_name_and_level_from_the_registry(admin, draft):
    indicator = add(admin, draft, key="leader_visit_months", level="village")
    assert indicator.name == REGISTRY["leader_visit_months"].name
    assert indicator.level == "group"  # the registry's level wins
    assert indicator.order == 1 and not indicator.manual
    assert add(admin, draft, key="council_model", threshold=1).order == 2


def test_indicator_errors_are_chinese_and_on_their_fields(admin, draft):
    with pytest.raises(ValidationError) as error:
        add(admin, draft, key="no_such_indicator")
    assert error.value.message_dict["key"] == ["请选择系统计算的指标,或改为人工评分指标。"]
    with pytest.raises(ValidationError) as error:
        add(admin, draft, max_score=D("0"))
    assert error.value.message_dict["max_score"] == ["满分应大于 0。"]
    with pytest.raises(ValidationError) as error:
        add(admin, draft, rule=Rule.LINEAR, low=D("80"), high=D("60"))
    assert error.value.message_dict == {"high": ["上限应大于下限。"]}
    with pytest.raises(ValidationError) as error:
        add(admin, draft, key="Bad Key", manual=True, name="档案")
    assert "小写字母" in error.value.message_dict["key"][0]
    with pytest.raises(ValidationError) as error:
        add(admin, draft, key="membership_ratio", manual=True, name="会员")
    assert "系统计算指标的代码" in error.value.message_dict["key"][0]
    with pytest.raises(ValidationError) as error:
        add(admin, draft, key="archives", manual=True, name="")
    assert error.value.message_dict == {"name": ["请填写指标名称。"]}


def test_a_key_is_used_once_per_version(admin, draft):
    add(admin, draft)
    with pytest.raises(ValidationError, match="本版本已有代码为“council_quarterly”的指标"):
        add(admin, draft)


def test_parameters_the_rule_does_not_use_are_cleared(admin, draft):
    indicator = add(admin, draft, rule=Rule.LINEAR, low=D("0"), high=D("100"), step=D("3"))
    assert (indicator.threshold, indicator.step) == (None, None)
    indicator = services.indicator_update(
        actor=admin, indicator=indicator, rule=Rule.SHARE_OF_TARGET, threshold=D("100")
    )
    assert (indicator.low, indicator.high, indicator.threshold) == (None, None, D("100"))


# --- the default scheme ---------------------------------------------------------------------


def test_the_default_scheme_is_seeded_from_the_users_documents(a, admin):
    scheme = scheme_create_default(actor=admin, county=a.county, year=2027)
    version = scheme.versions.get()
    indicators = list(SchemeIndicator.objects.filter(version=version).order_by("order"))
    assert scheme.name == DEFAULT_NAME and len(indicators) == len(DEFAULT_INDICATORS)
    assert services.max_score_totals(version) == {"village": D("100"), "group": D("100")}
    assert all(i.source for i in indicators)
    ratio = next(i for i in indicators if i.key == "membership_ratio")
    assert (ratio.rule, ratio.threshold, ratio.max_score) == ("share_of_target", D("10"), 10)
    archives = next(i for i in indicators if i.key == "archives")
    assert archives.manual and (archives.threshold, archives.step) == (D("9"), D("1"))
    computed = {i.key for i in indicators if not i.manual}
    assert computed <= set(REGISTRY)


# --- in use: frozen -------------------------------------------------------------------------


@pytest.fixture
def in_use(a, admin):
    scheme = scheme_create_default(actor=admin, county=a.county, year=2027)
    return services.scheme_version_activate(actor=admin, version=scheme.versions.get())


def test_a_version_needs_village_indicators_worth_the_first_class_line(admin, draft):
    with pytest.raises(ValidationError, match="版本中还没有村级指标"):
        services.scheme_version_activate(actor=admin, version=draft)
    add(admin, draft, max_score=D("60"))
    too_low = re.escape("村级指标满分合计 60.00 分,低于一流村协会分数线")
    with pytest.raises(ValidationError, match=too_low):
        services.scheme_version_activate(actor=admin, version=draft)


def test_a_version_in_use_is_refused_in_chinese_and_copied_instead(admin, in_use):
    assert in_use.state == "in_use" and in_use.activated_at
    indicator = in_use.indicators.first()
    refusals = [
        lambda: services.indicator_update(actor=admin, indicator=indicator, max_score=D("1")),
        lambda: services.indicator_remove(actor=admin, indicator=indicator),
        lambda: add(admin, in_use, key="council_model", threshold=1),
        lambda: services.scheme_version_update(actor=admin, version=in_use, qualified_min=60),
        lambda: services.scheme_version_activate(actor=admin, version=in_use),
    ]
    for refuse in refusals:
        with pytest.raises(ValidationError, match="不能直接修改;请先“复制为新版本”"):
            refuse()
    copy = services.scheme_new_version(actor=admin, version=in_use)
    assert (copy.number, copy.state, copy.copied_from_id) == (2, "draft", in_use.pk)
    originals = list(in_use.indicators.values_list("key", "max_score", "rule", "threshold"))
    copied = list(copy.indicators.values_list("key", "max_score", "rule", "threshold"))
    assert copied == originals and len(copied) == len(DEFAULT_INDICATORS)
    with pytest.raises(ValidationError, match=re.escape("已有草稿(第2版)")):
        services.scheme_new_version(actor=admin, version=in_use)
    edited = copy.indicators.get(key="archives")
    services.indicator_update(actor=admin, indicator=edited, max_score=D("4"))
    services.indicator_update(
        actor=admin, indicator=copy.indicators.get(key="council_model"), max_score=D("6")
    )
    services.scheme_version_activate(actor=admin, version=copy)
    in_use.refresh_from_db()
    copy.refresh_from_db()
    assert (in_use.state, copy.state) == ("retired", "in_use")
    assert in_use.retired_at is not None
    assert in_use.indicators.get(key="archives").max_score == D("5")  # the old one unchanged


def test_the_database_refuses_changes_to_a_frozen_version(admin, in_use):
    """Beneath the services: the triggers of migration 0002."""
    indicator = in_use.indicators.first()
    attempts = [
        lambda: SchemeIndicator.objects.filter(pk=indicator.pk).update(max_score=D("99")),
        lambda: SchemeIndicator.objects.filter(pk=indicator.pk).delete(),
        lambda: SchemeIndicator.objects.create(
            version=in_use,
            county_id=in_use.county_id,
            order=99,
            key="extra",
            name="追加",
            manual=True,
            max_score=D("1"),
            rule=Rule.MET,
            threshold=D("1"),
        ),
        lambda: SchemeVersion.objects.filter(pk=in_use.pk).update(qualified_min=D("10")),
        lambda: SchemeVersion.objects.filter(pk=in_use.pk).update(state="draft"),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError, match=r"cannot|not a draft"), transaction.atomic():
            attempt()
    in_use.refresh_from_db()
    assert in_use.qualified_min == D("70") and in_use.state == "in_use"
    # what the triggers allow: retiring it, and any change to a draft
    SchemeVersion.objects.filter(pk=in_use.pk).update(state="retired")
    in_use.refresh_from_db()
    assert in_use.state == "retired"
    with pytest.raises(IntegrityError), transaction.atomic():
        SchemeVersion.objects.filter(pk=in_use.pk).update(state="in_use")


def test_drafts_change_freely_in_the_database(admin, draft):
    indicator = add(admin, draft)
    assert SchemeIndicator.objects.filter(pk=indicator.pk).update(max_score=D("12")) == 1
    assert SchemeVersion.objects.filter(pk=draft.pk).update(note="x") == 1
    assert SchemeIndicator.objects.filter(pk=indicator.pk).delete()[0] == 1


def test_the_world_has_a_draft_default_scheme_in_each_county(world):
    with world.a.scope():
        default = AssessmentScheme.objects.get(name=DEFAULT_NAME)
        assert default.versions.get().state == "draft"
    with world.b.scope():
        assert AssessmentScheme.objects.get(name=DEFAULT_NAME).county_id == world.b.county.pk
