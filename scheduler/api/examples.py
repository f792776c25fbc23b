"""One example per request and response schema, as API.md writes them, for the OpenAPI document.

Litestar 2.25 builds component schemas from the pydantic fields and drops a model's
``json_schema_extra`` examples, so they are kept here, keyed by model, and written into the
served document by ``api/openapi.py``; tests check that each one validates against its model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from scheduler.api import audit, event_examples, feeds
from scheduler.api import care_pathway_schemas as cs
from scheduler.api import pathway_schemas as ps
from scheduler.api import report_schemas as rs
from scheduler.api import schemas as s
from scheduler.api import waitlist_schemas as ws

SITE_ID = "9a1e5c0f2b7d4e68a3c1f0d2b4e6a8c0"
STAFF_ID = "5f0c3b9e7a2d4c61b8e0f1a2c3d4e5f6"
SERVICE_ID = "c2d4e6f8a0b24c6e8f0a1b2c3d4e5f60"
RULE_ID = "7b3e9d1f5a2c4e6081b2c3d4e5f6a7b8"
INTERPRETER_ID = "3d5f7a9b1c2e4f60a1b2c3d4e5f6a7b8"
APPOINTMENT_ID = "e1f2a3b4c5d6478899aabbccddeeff00"
START, END = "2026-11-25T09:00:00+01:00", "2026-11-25T10:00:00+01:00"

SITE = {"name": "CCAS - bureau 2", "kind": "office", "address": "1 place de la Mairie, 95000 Ville",
        "timezone": "Europe/Paris", "school_zone": None, "public_label": "CCAS, accueil"}
STAFF = {"name": "Mme Leroy", "role": "psychologist", "phone": None}
SERVICE = {"name": "Entretien Point Écoute", "duration_minutes": 60, "capacity": 1, "min_notice_minutes": 0,
           "horizon_days": 92, "reminder_offsets_minutes": [2880]}
RULE = {
    "staff_id": STAFF_ID,
    "site_id": SITE_ID,
    "service_ids": [SERVICE_ID],
    "weekday": 3,
    "start_time": "09:00",
    "end_time": "12:00",
    "valid_from": "2026-09-01",
    "valid_until": None,
    "follows_school_calendar": False,
    "every_weeks": 1,
}
ABSENCE = {"staff_id": STAFF_ID, "start": "2026-12-02T09:00:00+01:00", "end": "2026-12-02T12:00:00+01:00",
           "reason": None}
CLOSURE = {"site_id": SITE_ID, "start": "2026-12-03T00:00:00+01:00", "end": "2026-12-04T00:00:00+01:00",
           "reason": "grève"}
AFFECTED = [
    {"id": APPOINTMENT_ID, "start": "2026-12-03T09:00:00+01:00", "staff_id": STAFF_ID, "site_id": SITE_ID}
]
OPENING = {"staff_id": STAFF_ID, "site_id": SITE_ID, "service_ids": [SERVICE_ID],
           "start": "2026-12-05T09:00:00+01:00", "end": "2026-12-05T12:00:00+01:00"}
INTERPRETER = {"name": "Mme Haddad", "languages": ["ar", "ber"], "mode": "on_site", "phone": "+33612345678"}
API_KEY = {"name": "case-management tool", "scopes": ["slots:read"]}
FAMILY = {"reference": "PRE-2026-014", "phone": "+33612345678", "language": "fr", "sms_consent": True}
BOOKED_INTERPRETER = {"language": "ar", "interpreter_id": INTERPRETER_ID, "status": "booked"}
APPOINTMENT = {"id": APPOINTMENT_ID, "status": "booked", "start": START, "end": END, "service_id": SERVICE_ID,
               "staff_id": STAFF_ID, "site_id": SITE_ID, "family": FAMILY, "interpreter": BOOKED_INTERPRETER,
               "note": None, "attendees": None, "pathway_id": None, "created_at": "2026-11-20T14:03:00+01:00",
               "updated_at": "2026-11-20T14:03:00+01:00", "cancelled_at": None, "cancelled_by": None,
               "cancel_reason": None}

MESSAGE = {"id": "3d4e5f6a7b8c49d0e1f2a3b4c5d6e7f8", "recipient": "family", "kind": "reminder-2880@0",
           "status": "sent", "due_at": "2026-11-23T09:00:00+01:00", "to": "+33 6•• ••• •78", "segments": 1,
           "provider_status": "delivered", "error_code": None, "sent_at": "2026-11-23T09:00:04+01:00"}

EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    s.SiteCreate: SITE,
    s.SiteUpdate: {"public_label": "CCAS, accueil (2e étage)", "phone": "01 43 94 33 00"},
    s.SiteOut: {"id": SITE_ID, **SITE, "holiday_region": None, "phone": "+33143943300"},
    s.StaffCreate: STAFF,
    s.StaffUpdate: {"phone": "06 12 34 56 78"},
    s.StaffOut: {"id": STAFF_ID, **STAFF},
    s.ServiceCreate: SERVICE,
    s.ServiceUpdate: {"min_notice_minutes": 1440},
    s.ServiceOut: {"id": SERVICE_ID, **SERVICE, "bring": None},
    s.InterpreterCreate: INTERPRETER,
    s.InterpreterUpdate: {"languages": ["ar", "ber", "fr"]},
    s.InterpreterOut: {"id": INTERPRETER_ID, **INTERPRETER, "timezone": "Europe/Paris"},
    s.ExternalInterpreterIn: {"language": "ps", "agency": "ISM Interprétariat", "reference": "ISM-2026-3312"},
    s.InterpreterUseOut: {"language": "ar", "month": "2026-11", "appointments": 14, "external": 2},
    s.RuleCreate: RULE,
    s.RuleUpdate: {"valid_until": "2027-07-03"},
    s.RuleOut: {"id": RULE_ID, **RULE, "interpreter_id": None, "every_weeks": 1},
    s.AbsenceCreate: {**ABSENCE, "cancel_affected": False},
    s.AbsenceUpdate: {"end": "2026-12-02T17:00:00+01:00", "reason": "formation", "cancel_affected": False},
    s.AbsenceOut: {
        "id": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        **ABSENCE,
        "interpreter_id": None,
        "affected_appointments": [],
    },
    s.AffectedOut: AFFECTED[0],
    s.ClosureCreate: {**CLOSURE, "cancel_affected": True},
    s.ClosureUpdate: {"end": "2026-12-05T00:00:00+01:00", "cancel_affected": True},
    s.ClosureOut: {"id": "5a6b7c8d9e0f41a2b3c4d5e6f7a8b9c0", **CLOSURE, "affected_appointments": AFFECTED},
    s.OpeningCreate: OPENING,
    s.OpeningUpdate: {"end": "2026-12-05T13:00:00+01:00"},
    s.OpeningOut: {"id": "1b2c3d4e5f6a47b8c9d0e1f2a3b4c5d6", **OPENING},
    s.ApiKeyCreate: API_KEY,
    s.ApiKeyUpdate: {"scopes": ["slots:read", "appointments:write"]},
    s.ApiKeyOut: {"id": "2c3d4e5f6a7b48c9d0e1f2a3b4c5d6e7", **API_KEY},
    s.ApiKeyCreated: {
        "id": "2c3d4e5f6a7b48c9d0e1f2a3b4c5d6e7",
        **API_KEY,
        "key": "crn_3q2-Zk1vQm8yH0bX7tLw5sN4pR6uE9aJcFgD2hKiO0M",
    },
    s.SlotOut: {
        "start": START,
        "end": END,
        "service_id": SERVICE_ID,
        "staff_id": STAFF_ID,
        "site_id": SITE_ID,
        "remaining": 1,
    },
    s.FamilyIn: {**FAMILY, "phone": "06 12 34 56 78"},
    s.FamilyOut: FAMILY,
    s.FamilyPhoneChange: {"phone": "06 98 76 54 32"},
    s.AppointmentCreate: {
        "service_id": SERVICE_ID,
        "start": START,
        "staff_id": STAFF_ID,
        "family": {**FAMILY, "phone": "06 12 34 56 78"},
        "interpreter_language": "ar",
        "note": "premier entretien",
        "attendees": "parents",
    },
    s.AppointmentInterpreterOut: BOOKED_INTERPRETER,
    s.AppointmentOut: APPOINTMENT,
    s.CancelIn: {"reason": "la famille a déménagé"},
    s.RescheduleIn: {"start": "2026-12-02T10:00:00+01:00", "site_id": None, "staff_id": None},
    s.OutcomeIn: {"status": "attended"},
    s.HealthOut: {"status": "ok", "database": "ok", "dispatcher": "running", "version": "1.0.0"},
    s.MessageOut: MESSAGE,
    # A family whose only number is a landline: booked, never texted, and told why.
    s.MessagePage: {"items": [], "family_not_texted": "landline"},
    s.ReplyOut: {
        "id": "4e5f6a7b8c9d40e1f2a3b4c5d6e7f8a9",
        "appointment_id": APPOINTMENT_ID,
        "received_at": "2026-11-23T18:12:40+01:00",
        "text": "Je serai en retard de 10 minutes",
        "sender": "+33 6•• ••• •78",
    },
    feeds.FeedCreate: {"privacy": "standard", "name": "Agenda de Mme Leroy"},
    feeds.FeedCreated: {
        "token": "Xk3v9QmZ2bH7tLw5sN4pR6uE",
        "privacy": "standard",
        "name": "Agenda de Mme Leroy",
        "url": "https://creneau.example.fr/feeds/Xk3v9QmZ2bH7tLw5sN4pR6uE.ics",
    },
    ps.PathwaySeriesOut: {
        "staff_id": STAFF_ID,
        "site_id": SITE_ID,
        "starts": [START, "2026-12-02T09:00:00+01:00", "2026-12-09T09:00:00+01:00"],
    },
}

EXAMPLES.update(event_examples.EXAMPLES)
EXAMPLES.update({
    rs.AppointmentImport: {"items": [{
        "external_id": "cmpp-2025-0187", "service_id": SERVICE_ID, "staff_id": STAFF_ID, "site_id": SITE_ID,
        "start": "2025-11-19T14:00:00+01:00", "end": "2025-11-19T15:00:00+01:00", "status": "attended",
        "family": {"reference": "PRE-2025-031", "language": "fr"},
    }]},
    rs.ImportOut: {"imported": 1, "already_imported": 0},
    rs.ReportCreate: {"from": "2025-09-01", "to": "2026-07-04", "site_ids": None},
})
PATHWAY_ID = "a7c9e1b3d5f748a2b4c6d8e0f1a3b5c7"
PATHWAY_STARTS = [START, "2026-12-02T09:00:00+01:00", "2026-12-09T09:00:00+01:00"]
PATHWAY_WHO = ["parents", "child", "family"]
EXAMPLES.update({
    cs.SessionIn: {"start": "2026-12-16T09:00:00+01:00", "attendees": "family"},
    cs.PathwayCreate: {
        "service_id": SERVICE_ID, "staff_id": STAFF_ID, "site_id": None, "family": FAMILY,
        "interpreter_language": None, "note": None,
        "sessions": [{"start": start, "attendees": who} for start, who in zip(PATHWAY_STARTS, PATHWAY_WHO,
                                                                              strict=True)],
    },
    cs.PathwayOut: {
        "id": PATHWAY_ID, "status": "active", "service_id": SERVICE_ID, "staff_id": STAFF_ID,
        "site_id": SITE_ID, "family": FAMILY, "interpreter_language": None, "note": None,
        "sessions": [{"appointment_id": f"{index}1f2a3b4c5d6478899aabbccddeeff0{index}", "start": start,
                      "end": start.replace("T09:", "T10:"), "attendees": who, "status": "booked"}
                     for index, (start, who) in enumerate(zip(PATHWAY_STARTS, PATHWAY_WHO, strict=True))],
        "created_at": "2026-11-20T14:03:00+01:00", "updated_at": "2026-11-20T14:03:00+01:00",
        "closed_at": None, "close_reason": None,
    },
    cs.PathwaySessionOut: {"appointment_id": APPOINTMENT_ID, "start": START, "end": END,
                           "attendees": "parents", "status": "booked"},
    cs.PathwayCloseIn: {"reason": "réorientée vers le CMPP"},
})
FEED_LISTED = {"id": "7d8e9f0a1b2c43d4e5f6a7b8c9d0e1f2", "privacy": "full",
               "created_at": "2026-09-01T08:30:00+02:00", "last_fetched_at": "2026-11-25T07:55:00+01:00"}
AUDIT_ENTRY = {"at": "2026-11-25T09:12:03+01:00",
               "actor": {"kind": "api-key", "id": "2c3d4e5f6a7b48c9d0e1f2a3b4c5d6e7",
                         "name": "CCAS Saint-Étienne"},
               "action": "appointment.read", "target": {"kind": "appointment", "id": APPOINTMENT_ID},
               "ip": "203.0.113.0/24", "family_reference": "PRE-2026-014", "appointment_id": APPOINTMENT_ID}
EXAMPLES.update({
    feeds.FeedOut: FEED_LISTED,
    feeds.FeedList: {"items": [FEED_LISTED]},
    audit.AuditEntryOut: AUDIT_ENTRY,
    audit.AuditPage: {"items": [AUDIT_ENTRY], "next_cursor": None},
})
WAITLIST_FAMILY = {"reference": "PRE-2026-044", "language": "ar"}
EXAMPLES.update({
    ws.WaitlistEntryCreate: {"service_id": SERVICE_ID, "site_id": SITE_ID, "staff_id": None,
                             "family": {**WAITLIST_FAMILY, "phone": "06 12 34 56 78", "sms_consent": True},
                             "earliest": "2026-11-25T00:00:00+01:00", "latest": "2026-12-19T00:00:00+01:00",
                             "appointment_id": None},
    ws.WaitlistFamilyOut: WAITLIST_FAMILY,
    ws.WaitlistEntryOut: {"id": "6f7a8b9c0d1e42f3a4b5c6d7e8f9a0b1", "status": "waiting", "position": 3,
                          "service_id": SERVICE_ID, "site_id": SITE_ID, "staff_id": None,
                          "family": WAITLIST_FAMILY, "earliest": "2026-11-24T23:00:00Z",
                          "latest": "2026-12-18T23:00:00Z", "appointment_id": None, "offers_sent": 1,
                          "offers_ignored": 1, "marked": False, "booked_appointment_id": None,
                          "created_at": "2026-11-20T14:03:00Z"},
})


def example_of(model: type[BaseModel]) -> dict[str, Any] | None:
    """The example of a model, or None."""
    return EXAMPLES.get(model)


def examples_by_schema_name() -> dict[str, dict[str, Any]]:
    """Each example under its model's name, as Litestar names component schemas."""
    return {model.__name__: example for model, example in EXAMPLES.items()}
