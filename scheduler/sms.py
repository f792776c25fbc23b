"""Choosing the SMS sender from the settings (``CRENEAU_SMS_BACKEND``)."""

from __future__ import annotations

import sys

from notifications.senders.base import SmsSender
from notifications.senders.console import ConsoleSmsSender
from notifications.senders.memory import InMemorySmsSender
from notifications.senders.twilio import TwilioSmsSender
from scheduler.settings import Settings

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


def build_sender(settings: Settings) -> SmsSender:
    """The sender the settings name; Twilio's needs its credentials (checked at start-up)."""
    if settings.sms_backend == "twilio":
        assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_sender
        return TwilioSmsSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            sender=settings.twilio_sender,
            api_base=settings.twilio_api_base,
            status_callback_url=settings.public_url + STATUS_CALLBACK_PATH,
        )
    if settings.sms_backend == "memory":
        return InMemorySmsSender()
    # In demo mode the terminal plays the family's phone (see ConsoleSmsSender).
    return ConsoleSmsSender(screen=sys.stdout if settings.demo else None)
