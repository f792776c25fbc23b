"""The log mask: phone numbers in every written form, keys and tokens go; ids, times and counts stay."""

from __future__ import annotations

import json
import logging

import pytest

from scheduler.observability.logs import (
    MASK,
    REQUEST_ID,
    JsonFormatter,
    RedactingFilter,
    RequestIdFilter,
    redact,
)


@pytest.mark.parametrize("text", [
    "+33612345678", "+33 6 12 34 56 78", "0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78",
    "0692 12 34 56", "+262692123456", "crn_Qx8r2mZ0vYk1", "kX3_9fJq2LmN8pQr7sTu6vWy5zAb",
])
def test_phones_keys_and_tokens_are_masked(text: str) -> None:
    assert redact(f"sent to {text}.") == f"sent to {MASK}."


@pytest.mark.parametrize("text", [
    "2026-11-25T09:00:00+01:00", "0f3a9c1e2b4d4e6f8a0b1c2d3e4f5a6b", "dispatch: sent=12 failed=0",
    "took 0.1234567890 s", "GET /v1/sites/{ident} 200", "+33 6 •• •• •• 78",
])
def test_ids_times_and_masked_numbers_stay_readable(text: str) -> None:
    assert redact(text) == text


def test_a_record_is_masked_in_its_arguments_and_extras_and_carries_the_request_id() -> None:
    record = logging.LogRecord("creneau.test", logging.INFO, __file__, 1, "booked for %s", ("06 12 34 56 78",), None)
    record.phone = "+33612345678"
    token = REQUEST_ID.set("req-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    RedactingFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == f"booked for {MASK}" and entry["phone"] == MASK
    assert (entry["request_id"], entry["level"], entry["logger"]) == ("req-1", "INFO", "creneau.test")
