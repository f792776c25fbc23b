"""Webhook secrets: made here, shown once, stored encrypted with a key derived from CRENEAU_SECRET_KEY.

Fernet (AES-128-CBC with HMAC-SHA256) under a key derived by HKDF-SHA256 from the service's
secret key, with its own ``info`` so that it is unrelated to every other use of that key.
Without ``CRENEAU_SECRET_KEY`` there is nothing to derive from: endpoints cannot be created.
"""

from __future__ import annotations

import base64
import secrets as random

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"
SECRET_BYTES = 32
_INFO = b"creneau webhook endpoint secrets v1"


class SecretUnreadable(Exception):
    """A stored secret does not decrypt under the current key (CRENEAU_SECRET_KEY changed)."""


def new_secret() -> str:
    """A new signing secret, ``whsec_`` and 32 random bytes in base64 (the Standard Webhooks form)."""
    return PREFIX + base64.b64encode(random.token_bytes(SECRET_BYTES)).decode()


class SecretBox:
    """Encrypts and decrypts endpoint secrets with the key derived from the service's secret key."""

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secret: str) -> str:
        """The secret, encrypted, as text for the database."""
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret in clear; SecretUnreadable if it was sealed under another key."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "the endpoint's secret was encrypted under another CRENEAU_SECRET_KEY"
            ) from None
