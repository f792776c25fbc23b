"""The rules every input follows: the date window, the text policy, exact JSON scalars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from scheduler.api.inputs import MULTI_LINE, ONE_LINE, ApiDate, ApiDateTime, ExactBool, ExactInt
from scheduler.domain.errors import InvalidPhone
from scheduler.domain.input_rules import date_problem, has_control_character, instant_problem, text_problem
from scheduler.phones import normalize_mobile, normalize_phone

PLUS_14 = timezone(timedelta(hours=14))


@pytest.mark.parametrize("day", [date(1900, 1, 1), date(2026, 11, 25), date(2999, 12, 31)])
def test_dates_in_the_window_pass(day: date) -> None:
    assert date_problem(day) is None


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(3000, 1, 1), date(9999, 12, 31)])
def test_dates_out_of_the_window_are_refused(day: date) -> None:
    assert date_problem(day) == "must be between 1900-01-01 and 2999-12-31"


def test_an_instant_is_judged_by_its_local_date_and_never_converted() -> None:
    # Converting 0001-01-01T00:00+14:00 to UTC would overflow: the rule must not try.
    assert instant_problem(datetime(1, 1, 1, tzinfo=PLUS_14)) == "must be between 1900-01-01 and 2999-12-31"
    assert instant_problem(datetime(9999, 12, 31, 23, 30, tzinfo=UTC)) is not None
    assert instant_problem(datetime(1900, 1, 1, tzinfo=PLUS_14)) is None
    assert instant_problem(datetime(2026, 11, 25, 9, 0)) == "must carry a UTC offset"


@pytest.mark.parametrize("text", ["École 🎒; a,b \\ c", "Mme N'Diaye", ""])
def test_printable_text_passes_both_policies(text: str) -> None:
    assert text_problem(text) is None
    assert text_problem(text, multiline=True) is None


@pytest.mark.parametrize(
    "text",
    ["a\x00b", "a\rb", "a\r\nb", "a\x1bb", "a\tb", "a\x7fb", "a\x85b", "a\u2028b", "a\u2029b", "a\ud800b"],
    ids=[
        "nul",
        "cr",
        "crlf",
        "esc",
        "tab",
        "del",
        "nel",
        "line_separator",
        "paragraph_separator",
        "surrogate",
    ],
)
def test_control_characters_are_refused_in_every_text(text: str) -> None:
    assert text_problem(text) == "must be one line without control characters"
    assert (
        text_problem(text, multiline=True)
        == "must not contain control characters (lines are separated by \\n only)"
    )
    assert has_control_character(text)


def test_a_line_feed_is_one_line_too_many_except_in_multi_line_text() -> None:
    assert text_problem("12 rue de la Paix\n75002 Paris") is not None
    assert text_problem("12 rue de la Paix\n75002 Paris", multiline=True) is None
    assert not has_control_character("staff-42")


class Body(BaseModel):
    """A request body using every input type."""

    name: Annotated[str, ONE_LINE] = "x"
    note: Annotated[str, MULTI_LINE] = "x"
    count: ExactInt = 0
    flag: ExactBool = False
    day: ApiDate = ApiDate(2026, 1, 1)
    at: ApiDateTime = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "a\nb"), ("note", "a\rb"), ("count", False), ("count", "3"), ("count", 30.5), ("flag", 0),
     ("flag", "true"), ("day", "0001-01-01"), ("day", "20260101"), ("day", "2026-W01-1"),
     ("day", 0), ("day", 1764547200), ("day", "1764547200"), ("at", 1764547200), ("at", "1764547200"),
     ("at", "2026-01-01T09:00:00"), ("at", "9999-12-31T23:30:00+00:00"), ("at", "0001-01-01T00:00:00+14:00")],
)
def test_request_fields_refuse_what_their_type_forbids_even_in_lax_mode(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        Body.model_validate({field: value}, strict=False)
    assert [error["loc"] for error in refused.value.errors()] == [(field,)]


def test_request_fields_accept_what_their_type_allows() -> None:
    body = Body.model_validate({"note": "a\nb", "count": 60.0, "flag": True, "day": "2999-12-31",
                                    "at": "1900-01-01T00:00:00+14:00"}, strict=False)
    assert (body.note, body.count, body.flag, body.day) == ("a\nb", 60, True, date(2999, 12, 31))
    assert type(body.count) is int


@pytest.mark.parametrize("text", ["2026-11-25", "1900-01-01", "2999-12-31"])
def test_a_query_date_is_parsed_as_an_api_date(text: str) -> None:
    parsed = ApiDate.parse(text)
    assert (type(parsed), parsed.isoformat()) == (ApiDate, text)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "2026-02-30", "2026-1-1", "20261125", "", "x"])
def test_a_query_date_out_of_the_window_or_malformed_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ApiDate.parse(text)


@pytest.mark.parametrize("phone", ["+33612345678 ext. 12", "06 12 34 56 78 ext 3", "01 43 94 33 00 x12"])
def test_a_phone_number_with_an_extension_is_refused_not_truncated(phone: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(phone)
    with pytest.raises(InvalidPhone):
        normalize_mobile(phone)
