"""Webhook signatures verify with the ``standardwebhooks`` package and with an HMAC written from the
specification."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from scheduler.webhooks.secrets import SecretBox, SecretUnreadable, new_secret
from scheduler.webhooks.signing import headers

BODY = b'{"id":"evt_1","type":"appointment.booked","data":{"note":"\xc3\xa9t\xc3\xa9"}}'


def _spec_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    # Standard Webhooks, "Signature scheme": HMAC-SHA256 keyed with the base64-decoded part of
    # the secret after "whsec_", over "{id}.{timestamp}.{body}", base64-encoded, prefixed "v1,".
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_a_signed_request_verifies_with_standardwebhooks() -> None:
    secret = new_secret()
    sent = headers([secret], "evt_1", datetime.now(UTC), BODY)
    assert Webhook(secret).verify(BODY, sent)["id"] == "evt_1"


def test_the_signature_is_the_specifications_hmac() -> None:
    secret = new_secret()
    sent = headers([secret], "evt_abc", datetime(2026, 11, 25, 17, 2, 11, 900_000, tzinfo=UTC), BODY)
    assert sent["webhook-timestamp"] == "1795626131"
    assert sent["webhook-id"] == "evt_abc"
    assert sent["webhook-signature"] == _spec_signature(secret, "evt_abc", "1795626131", BODY)


def test_during_a_rotation_both_secrets_sign_and_each_verifies() -> None:
    old, new = new_secret(), new_secret()
    sent = headers([new, old], "evt_2", datetime.now(UTC), BODY)
    signatures = sent["webhook-signature"].split(" ")
    assert signatures == [_spec_signature(new, "evt_2", sent["webhook-timestamp"], BODY),
                          _spec_signature(old, "evt_2", sent["webhook-timestamp"], BODY)]
    for secret in (old, new):
        Webhook(secret).verify(BODY, sent)


def test_another_secret_does_not_verify() -> None:
    sent = headers([new_secret()], "evt_3", datetime.now(UTC), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, sent)


def test_a_secret_is_32_random_bytes_in_the_whsec_form() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert secret != new_secret()


def test_secrets_are_stored_encrypted_and_only_the_same_key_opens_them() -> None:
    box = SecretBox("k" * 40)
    secret = new_secret()
    sealed = box.seal(secret)
    assert secret not in sealed and secret[6:] not in sealed
    assert SecretBox("k" * 40).open(sealed) == secret
    with pytest.raises(SecretUnreadable):
        SecretBox("x" * 40).open(sealed)
