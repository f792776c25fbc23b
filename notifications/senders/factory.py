"""Choosing the SMS sender by name (``CRENEAU_SMS_BACKEND``): ``console``, ``memory`` or ``twilio``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from notifications.senders.base import SmsSender
from notifications.senders.console import ConsoleSmsSender
from notifications.senders.memory import InMemorySmsSender
from notifications.senders.twilio import TwilioSmsSender


@dataclass(frozen=True, slots=True)
class TwilioAccount:
    """What the Twilio sender needs (the settings check at start-up that all of it is given)."""

    account_sid: str
    auth_token: str
    sender: str
    """The number or messaging service the texts come from."""
    api_base: str | None = None
    """Another API root (the fake Twilio of the tests); None for Twilio's."""
    status_callback_url: str | None = None
    """Where Twilio posts delivery statuses."""


def build_sender(
    backend: str, twilio: TwilioAccount | None = None, screen: TextIO | None = None
) -> SmsSender:
    """The sender ``backend`` names; ``twilio`` is required for Twilio's, ``screen`` is where the console
    sender also writes each text (the demo's stand-in for the family's phone)."""
    if backend == "twilio":
        if twilio is None:
            raise ValueError("the twilio SMS backend needs its account")
        return TwilioSmsSender(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            sender=twilio.sender,
            api_base=twilio.api_base,
            status_callback_url=twilio.status_callback_url,
        )
    if backend == "memory":
        return InMemorySmsSender()
    return ConsoleSmsSender(screen=screen)
