"""Cross-field rules of the setting-up data, and the OpenAPI examples that must obey the schemas."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scheduler.api.examples import EXAMPLES
from scheduler.domain.consistency import (
    interpreter_rule_problem,
    interval_problem,
    school_zone_problem,
    validity_problem,
)
from scheduler.domain.errors import InvalidInput, InvalidPhone
from scheduler.languages import normalize_language
from scheduler.phones import normalize_phone


def test_a_rule_may_end_the_day_it_starts_but_not_before() -> None:
    assert validity_problem(date(2026, 9, 1), None) is None
    assert validity_problem(date(2026, 9, 1), date(2026, 9, 1)) is None
    assert (
        validity_problem(date(2026, 9, 1), date(2026, 8, 31)) == "valid_until must not be before valid_from"
    )


def test_an_interval_must_end_after_it_starts() -> None:
    nine, ten = datetime(2026, 12, 2, 8, tzinfo=UTC), datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert interval_problem(nine, ten) is None
    assert interval_problem(ten, nine) == interval_problem(nine, nine) == "end must be after start"


@pytest.mark.parametrize(("kind", "zone", "calendar", "refused"), [
    ("school", None, "FR", True),
    ("school", None, "FR-57", True),
    ("school", "B", "FR", False),
    ("school", None, "FR-974", False),
    ("office", None, "FR", False),
], ids=["metropolitan_school", "moselle_school", "zoned_school", "reunion_school", "office"])
def test_a_metropolitan_school_needs_a_zone(
    kind: str, zone: str | None, calendar: str, refused: bool
) -> None:
    assert (school_zone_problem(kind, zone, calendar) is not None) is refused


@pytest.mark.parametrize("code", ["und", "mul", "zxx", "mis", "qaa", "qmz", "qtz"])
def test_special_language_codes_are_not_languages(code: str) -> None:
    with pytest.raises(InvalidInput, match="not a language"):
        normalize_language(code)


def test_languages_around_the_local_use_range_are_still_checked() -> None:
    with pytest.raises(InvalidInput, match="two-letter"):
        normalize_language("que")
    assert normalize_language("ber") == "ber"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("01 43 94 33 00", "+33143943300"),
        ("0262 40 00 00", "+262262400000"),
        ("0044 20 7946 0958", "+442079460958"),
        ("06 12 34 56 78", "+33612345678"),
    ],
)
def test_any_valid_phone_is_kept_in_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["accueil", "01 43 94", "+33 1 23", "+999 1234"])
def test_an_invalid_phone_is_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


@pytest.mark.parametrize("model", list(EXAMPLES), ids=lambda model: model.__name__)
def test_every_example_is_valid_for_its_schema(model: type) -> None:
    model.model_validate(EXAMPLES[model])  # type: ignore[attr-defined]


def test_only_a_staff_members_rule_may_follow_a_school_calendar() -> None:
    assert interpreter_rule_problem("int-1", True) is not None
    assert interpreter_rule_problem("int-1", False) is None
    assert interpreter_rule_problem(None, True) is None
