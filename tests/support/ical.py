"""Reading iCalendar feeds back with two parsers independent of the code that wrote them.

vobject (Python, dateutil time zones) is all the unit tests need. ical.js (Thunderbird's
parser) runs with Node.js, so only the contract and end-to-end tests use it: there, both
parsers must agree on every event before a test compares what they read with its expectations.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import vobject  # type: ignore[import-untyped]

PARSE_ICS = Path(__file__).resolve().parents[1] / "js" / "parse_ics.mjs"
FIELDS = ("uid", "status", "sequence", "summary", "location", "description", "start", "end")


def utc_iso(moment: datetime) -> str:
    """An aware datetime as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_with_vobject(body: bytes) -> list[dict[str, Any]]:
    """The feed's events as vobject reads them (validating), times in UTC."""
    text = body.decode("utf-8")
    # vobject keeps the first VTIMEZONE it ever saw for a TZID, process-wide: register this
    # feed's own zones first, or an earlier test's feed would decide this one's offsets.
    for vtimezone in getattr(vobject.readOne(text), "vtimezone_list", []):
        vobject.icalendar.registerTzid(vtimezone.tzid.value, vtimezone.gettzinfo())
    calendar = vobject.readOne(text, validate=True)
    events = []
    for vevent in getattr(calendar, "vevent_list", []):
        start = vevent.dtstart.value
        # Zoned times must come from the feed's VTIMEZONE (dateutil's tzical), not from pytz.
        assert type(start.tzinfo).__module__.startswith("dateutil"), start.tzinfo
        events.append(
            {
                "uid": vevent.uid.value,
                "status": vevent.status.value,
                "sequence": int(vevent.sequence.value),
                "summary": vevent.summary.value,
                "location": vevent.location.value if hasattr(vevent, "location") else None,
                "description": vevent.description.value if hasattr(vevent, "description") else None,
                "start": utc_iso(start),
                "end": utc_iso(vevent.dtend.value),
            }
        )
    return events


def read_calendar_with_vobject(body: bytes) -> dict[str, Any]:
    """The feed as vobject reads it, in the shape ``read_with_icaljs`` gives (events without TZIDs)."""
    calendar = vobject.readOne(body.decode("utf-8"))
    return {
        "uid": calendar.uid.value,
        "name": calendar.x_wr_calname.value,
        "timezones": [vtimezone.tzid.value for vtimezone in getattr(calendar, "vtimezone_list", [])],
        "events": read_with_vobject(body),
    }


def read_with_icaljs(body: bytes) -> dict[str, Any]:
    """The feed as ical.js reads it: calendar uid, name, time zones and events (UTC instants)."""
    # A TZ far from Europe: a TZID that ical.js failed to resolve could not pass unnoticed.
    env = os.environ | {"TZ": "Pacific/Kiritimati"}
    done = subprocess.run(["node", str(PARSE_ICS)], input=body, capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def parsed_events(body: bytes) -> list[dict[str, Any]]:
    """Read the feed with both parsers, check they agree, and return the events."""
    from_vobject = read_with_vobject(body)
    from_icaljs = [{key: event[key] for key in FIELDS} for event in read_with_icaljs(body)["events"]]
    assert from_icaljs == from_vobject
    return from_vobject


def unfolded(body: bytes) -> str:
    """The feed's text with folded lines joined back."""
    return body.replace(b"\r\n ", b"").decode("utf-8")


def without_staff_link(description: str | None) -> str | None:
    """A staff feed event's description without its outcome page line (tested apart, in
    tests/e2e/test_staff_links.py): what the other feed tests compare."""
    if description is None:
        return None
    kept = [line for line in description.split("\n") if not line.startswith("Noter la venue ou annuler : ")]
    return "\n".join(kept) or None
