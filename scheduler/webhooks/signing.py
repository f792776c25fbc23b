"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, one per secret.

Signed with the ``standardwebhooks`` package itself, so that any receiver using it verifies
the headers as they are. During a rotation two secrets sign, space-separated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook


def signature_header(secrets: Sequence[str], message_id: str, timestamp: datetime, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``v1,…`` signature per secret, space-separated."""
    if not secrets:
        raise ValueError("at least one secret signs")
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets)


def headers(secrets: Sequence[str], message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, plus the JSON content type."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets, message_id, timestamp, body),
    }
