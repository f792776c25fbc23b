"""At DEBUG, on both databases, no log line carries a family's phone, reference, note or idempotency key."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import at, booking, created, family, programme, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.server import start_server

# The same kind of number written as families and front desks type them, each a different
# number; with the E.164 form each is stored as.
PHONES = {
    "０６ １１ ２２ ３３ ４４": "+33611223344",  # full-width digits
    "٠٦ ١٢ ٢٣ ٣٤ ٤٥": "+33612233445",  # Arabic-Indic digits
    "0033 6 13 24 35 46": "+33613243546",
    "(06) 14 25 36 47": "+33614253647",
    "06-15-26-37-48": "+33615263748",
}


def test_no_family_data_in_debug_logs(database: DatabaseHandle, tmp_path: Path) -> None:
    hidden: list[str] = []
    with FakeTwilio() as fake, start_server(database, tmp_path, admin_key=secrets.token_urlsafe(24),
                                            extra_env=_debug_texting(fake)) as server:
        with server.client() as client:
            prog = programme(client, end="18:00")
            day = upcoming(3, weeks_ahead=3)
            for hour, (written, stored) in zip(range(9, 18), PHONES.items(), strict=False):
                reference, note, key = f"DOSSIER-{secrets.token_hex(4)}", f"note {secrets.token_hex(6)}", \
                    f"idem-{secrets.token_hex(8)}"
                body = booking(prog, at(day, f"{hour:02d}:00"), note=note,
                               family=family(reference=reference, phone=written))
                booked = created(client.post("/v1/appointments", json=body, headers={"Idempotency-Key": key}))
                assert booked["family"]["phone"] == stored
                hidden += [written, stored, stored[1:], stored[3:], reference, note, key]
            assert client.get("/v1/appointments", params={"family_reference": hidden[4]}).status_code == 200
        _wait_until(lambda: len(fake.messages) >= len(PHONES))
        log = server.log()
    # DEBUG is in force: the Twilio sender's own debug lines (method and path only) are there.
    assert "DEBUG creneau.sms.twilio" in log
    leaked = [value for value in hidden if value in log]
    assert leaked == []


def _debug_texting(fake: FakeTwilio) -> dict[str, str]:
    return {"CRENEAU_LOG_LEVEL": "DEBUG", "CRENEAU_LOG_FORMAT": "text", "CRENEAU_ACCESS_LOG": "true",
            "CRENEAU_SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": fake.account_sid,
            "TWILIO_AUTH_TOKEN": fake.auth_token, "CRENEAU_TWILIO_SENDER": "CRENEAU",
            "CRENEAU_TWILIO_API_BASE": fake.base_url, "CRENEAU_DISPATCH_INTERVAL_SECONDS": "0.3",
            "CRENEAU_QUIET_HOURS": ""}


def _wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the confirmations were not sent"
        time.sleep(0.1)
