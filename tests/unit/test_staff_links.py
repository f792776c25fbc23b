"""Staff outcome links: a token is bound to one feed (its key) and one appointment, and its form
value to the token; nothing else verifies."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.services.staff_links import MAC_LENGTH, StaffLinks, mac, parse

LINKS = StaffLinks(b"s" * 32, "https://rdv.example.fr")
ids = st.uuids(version=4).map(lambda value: value.hex)


@settings(max_examples=25)
@given(feed=ids, appointment=ids, other=ids, token_hash=st.text(min_size=1, max_size=64))
def test_a_token_names_its_feed_and_appointment_and_binds_them(
    feed: str, appointment: str, other: str, token_hash: str
) -> None:
    key = LINKS.feed_key(token_hash)
    parts = parse(LINKS.token(feed, key, appointment))

    assert parts is not None
    assert (parts.feed_id, parts.appointment_id, parts.mac) == (feed, appointment, mac(key, appointment))
    assert len(parts.mac) == MAC_LENGTH  # 22 base64 characters: 132 bits
    if other != appointment:
        assert mac(key, other) != parts.mac
    assert mac(LINKS.feed_key(token_hash + "x"), appointment) != parts.mac


def test_the_key_depends_on_the_server_secret_not_only_on_the_stored_hash() -> None:
    other_server = StaffLinks(b"t" * 32, LINKS.public_url)
    assert other_server.feed_key("abc") != LINKS.feed_key("abc")
    assert other_server.fingerprint() != LINKS.fingerprint()
    assert StaffLinks(LINKS.secret, "https://autre.example.fr").fingerprint() != LINKS.fingerprint()


def test_malformed_tokens_are_not_parsed() -> None:
    feed, appointment = uuid.uuid4().hex, uuid.uuid4().hex
    good = f"{feed}-{appointment}-{'A' * 22}"
    assert parse(good) is not None
    wrong = (good[:-1], good + "A", good.upper(), f"{feed}-{appointment}", "",
             f"{feed}/{appointment}-{'A' * 22}")
    for bad in wrong:
        assert parse(bad) is None, bad


def test_the_form_value_is_the_tokens_own() -> None:
    token = LINKS.token(uuid.uuid4().hex, LINKS.feed_key("h"), uuid.uuid4().hex)
    value = LINKS.form_key(token)

    assert LINKS.form_key_ok(token, value)
    assert not LINKS.form_key_ok(token + "x", value)
    assert not LINKS.form_key_ok(token, None)
    assert not LINKS.form_key_ok(token, "0" * 32)
