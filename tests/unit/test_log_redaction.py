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
from scheduler.services.family_links import LinkMaker


@pytest.mark.parametrize("text", [
    "+33612345678", "+33 6 12 34 56 78", "0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78",
    "0692 12 34 56", "+262692123456", "crn_Qx8r2mZ0vYk1", "kX3_9fJq2LmN8pQr7sTu6vWy5zAb",
])
def test_phones_keys_and_tokens_are_masked(text: str) -> None:
    assert redact(f"sent to {text}.") == f"sent to {MASK}."


@pytest.mark.parametrize(("text", "expected"), [
    ("https://rdv.exemple.fr/r/Ab3dE5fG7hJk", f"https://rdv.exemple.fr/r/{MASK}"),
    ("GET /r/abcdefghijkl/confirm", f"GET /r/{MASK}/confirm"),
    ("lien /r/x7", f"lien /r/{MASK}"),
    ("GET /r/{token}", f"GET /r/{MASK}"),
    ("https://x.fr/r/AbcdefghijklmnopqrstuvwxyzAbcdefghijkl0123?x=1", f"https://x.fr/r/{MASK}?x=1"),
])
def test_family_page_links_lose_their_token_whatever_its_length(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("token", ["Ab3dE5fG7hJk", "q9ZxW2", "0aB1cD2eF3gH4iJ5kL6mN7oP8", "Zk3pQ8rT"])
def test_family_page_tokens_on_their_own_are_masked(token: str) -> None:
    if len(token) < 8:  # too short to tell from a word without its /r/: only links are caught
        assert redact(f"token {token}") == f"token {token}"
    else:
        assert redact(f"token {token}.") == f"token {MASK}."


def test_every_family_page_token_is_masked_in_a_link_and_most_on_their_own() -> None:
    maker = LinkMaker(secret=b"s" * 32, public_url="https://rdv.exemple.fr")
    tokens = [maker.token(f"appointment-{number}") for number in range(1000)]
    assert all(token not in redact(maker.url(f"appointment-{n}")) for n, token in enumerate(tokens))
    caught_alone = sum(redact(f"token {token}") == f"token {MASK}" for token in tokens)
    assert caught_alone > 850  # those without a digit (about 12%) look like words


@pytest.mark.parametrize("text", [
    "2026-11-25T09:00:00+01:00", "0f3a9c1e2b4d4e6f8a0b1c2d3e4f5a6b", "dispatch: sent=12 failed=0",
    "took 0.1234567890 s", "GET /v1/sites/{ident} 200", "+33 6 •• •• •• 78",
    "cannot reach Twilio (ClientConnectorError)", "utf8 Python3",
])
def test_ids_times_and_masked_numbers_stay_readable(text: str) -> None:
    assert redact(text) == text


def test_a_record_is_masked_in_its_arguments_and_extras_and_carries_the_request_id() -> None:
    record = logging.LogRecord(
        "creneau.test", logging.INFO, __file__, 1, "booked for %s", ("06 12 34 56 78",), None
    )
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
