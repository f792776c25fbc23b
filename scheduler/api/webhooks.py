"""Twilio webhooks: status callbacks and families' replies, both signature-checked."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.exceptions import PermissionDeniedException
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from scheduler.api.common import Services
from scheduler.domain.errors import InvalidPhone
from scheduler.phones import normalize_mobile
from scheduler.services import twilio_webhooks

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _signed_form(request: Request[Any, Any, Any], svc: Services) -> dict[str, str]:
    """The POSTed form, after checking ``X-Twilio-Signature`` against our public URL."""
    token = svc.settings.twilio_auth_token
    signature = request.headers.get("x-twilio-signature", "")
    form = {key: str(value) for key, value in (await request.form()).items()}
    # Twilio signs the URL it called: behind a proxy that is the public URL, not ours.
    url = svc.settings.public_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if (
        token is None
        or not signature
        or not RequestValidator(token.get_secret_value()).validate(url, form, signature)
    ):
        raise PermissionDeniedException("Missing or invalid X-Twilio-Signature.")
    return form


class TwilioWebhookController(Controller):
    """Called by Twilio, not by API clients: no API key, a signature instead."""

    path = "/webhooks/twilio"
    tags = ("webhooks",)
    include_in_schema = True

    @post("/status", operation_id="twilio_status_callback", summary="Twilio message status callback",
          status_code=204, exclude_from_auth=True)
    async def status(self, request: Request[Any, Any, Any], svc: Services) -> None:
        form = await _signed_form(request, svc)
        reference = request.query_params.get("ref", "")
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not reference or not sid or not status:
            return
        await twilio_webhooks.record_status(svc, reference, sid, status, form.get("ErrorCode") or None)

    @post("/inbound", operation_id="twilio_inbound_sms", summary="A family's SMS reply",
          status_code=200, exclude_from_auth=True)
    async def inbound(self, request: Request[Any, Any, Any], svc: Services) -> Response[str]:
        form = await _signed_form(request, svc)
        try:
            phone = normalize_mobile(form.get("From", ""))
        except InvalidPhone:
            phone = None
        if phone and form.get("MessageSid"):
            await twilio_webhooks.receive_reply(svc, form["MessageSid"], phone, form.get("Body", ""))
        return Response(EMPTY_TWIML, media_type="text/xml")
