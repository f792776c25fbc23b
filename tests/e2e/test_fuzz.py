"""Schemathesis's own run, every check, against a real server: stateless phases and the stateful one.

Thirty examples per operation (on each database), then the stateful phase following the
document's links (a site to its staff, a booking to its cancel...). Every check is on, not
only "no server error": the document must say what the service accepts and refuses, and the
service must keep to it.

Beside schemathesis's checks, each 4xx must be a problem+json with a code of the contract's
table (the hooks' ``error_is_a_problem_with_a_contract_code``). Two things the fuzzer cannot
know are given to it (tests/support/fuzz_hooks.py): valid values for the formats checked by a
library (phone numbers, time zones, languages), and the rule that an Idempotency-Key or a
cursor is not made up. The coverage phase is left out: it sends
boundary values ("0") for those formats without their strategies, which the service refuses
with the documented ``invalid-phone`` or ``validation-error``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.server import RunningServer

HOOKS = Path(__file__).resolve().parents[1] / "support" / "fuzz_hooks.py"
MAX_EXAMPLES = 30
# Operations whose schema-valid input may still be refused by a rule across fields, which JSON
# Schema does not say (each is a documented 422 validation-error).
CROSS_FIELD_RULES = {
    "create_availability_rule": "exactly one of staff_id and interpreter_id; a staff rule names a site and "
                                "services; end_time after start_time; valid_until not before valid_from",
    "update_availability_rule": "valid_until not before the rule's valid_from",
    "create_absence": "exactly one of staff_id and interpreter_id; end after start",
    "update_absence": "the merged absence ends after it starts",
    "create_opening": "end after start",
    "update_opening": "the merged opening ends after it starts",
    "create_site": "a school site names its school_zone",
    "update_site": "a school site keeps its school_zone",
    "create_interpreter_feed": "an interpreter's feed shows at most the 'standard' level",
    "list_appointments": "`to` not before `from`",
    "list_interpreter_use": "`to` after `from` and within 3 years",
    "list_free_slots": "`to` not before `from`, within the search window",
    "list_pathway_slots": "`to` not before `from`, within 92 days; tolerance_days below every_days",
    "appointment_stats": "`to` not before `from`, within 3 years",
    "create_report": "`to` not before `from`",
    "list_events": "`after` is a next_cursor the feed gave",
    "create_webhook_endpoint": "events are event types or [\"*\"]; the URL is https to a public address",
    "update_webhook_endpoint": "events are event types or [\"*\"]; the URL is https to a public address",
    "create_closure": "end after start",
    "update_closure": "the merged closure ends after it starts",
    "import_past_appointments": "each item past and ending after it starts; staff, site and service known",
    "book_pathway": "sessions in start order, each after the previous",
    "create_api_key": "site_ids name sites that exist",
    "list_audit_entries": "`from` and `to` are instants with their UTC offset; `cursor` a next_cursor "
                          "the trail gave",
    "create_waitlist_entry": "latest after earliest; a family unless appointment_id names one; the "
                             "appointment's service, still to come",
    "list_waitlist_entries": "`cursor` is a next_cursor the list gave",
}
CONFIG = """
suppress-health-check = ["all"]

[auth.openapi.apiKey]
bearer = "${{CRENEAU_FUZZ_KEY}}"

[phases.coverage]
enabled = false

[generation]
max-examples = {examples}

[[operations]]
include-operation-id = [{operations}]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]
"""


def test_schemathesis_finds_nothing_with_every_check(server: RunningServer, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(examples=MAX_EXAMPLES,
                                    operations=", ".join(f'"{name}"' for name in CROSS_FIELD_RULES)))
    st = Path(sys.executable).parent / "st"
    done = subprocess.run(
        [str(st), "--config-file", str(config), "--no-color", "run", server.base_url + "/schema/openapi.json",
         "--checks", "all", "--seed", "1", "--workers", "1", "--max-examples", str(MAX_EXAMPLES)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
        env={**os.environ, "CRENEAU_FUZZ_KEY": server.admin_key, "SCHEMATHESIS_HOOKS": str(HOOKS),
             "COLUMNS": "160"},
    )
    summary = done.stdout[done.stdout.find("SUMMARY"):]
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-2000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", summary)
    assert selected and selected.group(1) == selected.group(2), summary
    assert f"Tested: {selected.group(1)}" in summary, summary  # every operation, none skipped
    assert "Stateful" in summary, summary
