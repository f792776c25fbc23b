"""Micro-benchmark: time build_feed on 2,000 and 20,000 appointments (median of several runs), and
the rebuild the feed endpoint does after one appointment changed: one event rendered again, the
others' kept VEVENT bytes reassembled."""

from __future__ import annotations

import itertools
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib.metadata import version
from pathlib import Path

from icalendar import Calendar, Event
from icalendar.enums import STATUS

from scheduler.feeds.ical import FeedEvent, FeedSpec, Privacy, assemble_feed, build_feed, render_event

SIZES = (2_000, 20_000)
RUNS = {2_000: 9, 20_000: 5}
# Mostly the mainland, some overseas sites: each zone used adds one VTIMEZONE.
ZONES = ("Europe/Paris",) * 7 + ("Indian/Reunion", "America/Cayenne", "Pacific/Noumea")
STATUSES = ("booked", "confirmed", "confirmed", "attended", "no_show", "cancelled")
SITE_KINDS = ("office", "school", "school", "home", "online")
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def workload(count: int) -> list[FeedEvent]:
    """Build `count` one-hour appointments over about a year, with notes and interpreters."""
    return [
        FeedEvent(
            appointment_id=str(10_000 + i),
            start=START + timedelta(hours=3 * i),
            end=START + timedelta(hours=3 * i + 1),
            zone=ZONES[i % len(ZONES)],
            status=STATUSES[i % len(STATUSES)],
            sequence=i % 4,
            last_modified=START - timedelta(days=1, minutes=i),
            service_name="Entretien psychologue" if i % 3 else "Permanence sociale",
            site_kind=SITE_KINDS[i % len(SITE_KINDS)],
            site_label="CCAS Centre, accueil",
            site_address="1 place de la Mairie, 59000 Lille",
            family_reference=f"PRE-2026-{i:05d}",
            interpreter_language="arabe" if i % 4 == 0 else None,
            note="Venir avec le carnet de santé; prévoir la salle du rez-de-chaussée." if i % 2 else None,
        )
        for i in range(count)
    ]


def icalendar_baseline(events: Sequence[FeedEvent]) -> bytes:
    """The same VEVENTs through icalendar's objects: what build_feed's hand-written loop replaces."""
    calendar = Calendar.new(prodid="-//bench//FR", uid="feed-bench@creneau")
    for event in events:
        calendar.add_component(
            Event.new(
                uid=f"appt-{event.appointment_id}@creneau.local",
                stamp=event.last_modified,
                last_modified=event.last_modified,
                sequence=event.sequence,
                start=event.start,
                end=event.end,
                summary=f"{event.service_name} — {event.family_reference}",
                location=event.site_label,
                status=STATUS.CONFIRMED,
            )
        )
    body: bytes = calendar.to_ical()
    return body


def rebuild_after_one_change(spec: FeedSpec, events: Sequence[FeedEvent]) -> Callable[[], bytes]:
    """A build that renders one changed event and reuses the others' renderings, as the service does."""
    rendered = [render_event(event, spec.privacy, spec.domain) for event in events]
    middle = len(events) // 2
    changes = itertools.count(1)

    def rebuild() -> bytes:
        changed = replace(events[middle], sequence=events[middle].sequence + next(changes))
        rendered[middle] = render_event(changed, spec.privacy, spec.domain)
        return assemble_feed(spec, rendered)

    return rebuild


def median_ms(build: Callable[[], bytes], runs: int) -> tuple[float, float, int]:
    """Time `runs` calls.

    Returns:
        The first call's ms (it fills the VTIMEZONE cache), the median ms, the body size in bytes.
    """
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        body = build()
        timings.append((time.perf_counter() - started) * 1000)
    return timings[0], statistics.median(timings), len(body)


def spec(privacy: Privacy) -> FeedSpec:
    return FeedSpec("feed-bench@creneau", "Bench", "steelblue", privacy, None, "creneau.local")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        cpu = f"{names[0]} x{len(names)}" if names else cpu
    return f"{cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


HEADER = ("what", "events", "first ms", "median ms", "µs/event", "body KiB")
WIDTHS = (41, 6, 8, 9, 8, 8)


def row(cells: Sequence[str]) -> str:
    """Format one Markdown table row: the first column left-aligned, figures right-aligned."""
    padded = [cells[0].ljust(WIDTHS[0])] + [
        cell.rjust(width) for cell, width in zip(cells[1:], WIDTHS[1:], strict=True)
    ]
    return "| " + " | ".join(padded) + " |"


def figures(what: str, count: int, first_ms: float, ms: float, size: int) -> str:
    return row(
        [what, str(count), f"{first_ms:.1f}", f"{ms:.1f}", f"{ms * 1000 / count:.1f}", f"{size / 1024:.0f}"]
    )


def main() -> None:
    print(f"machine:  {machine()}")
    print(f"date:     {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command:  python {' '.join(sys.argv)}")
    print(f"versions: icalendar {version('icalendar')}")
    print()
    print(row(HEADER))
    print("|" + "|".join("-" * (width + 2) for width in WIDTHS) + "|")
    for count in SIZES:
        events = workload(count)
        for privacy in ("full", "busy"):
            timing = median_ms(partial(build_feed, spec(privacy), events), RUNS[count])
            print(figures(f"build_feed, privacy={privacy}", count, *timing))
        timing = median_ms(rebuild_after_one_change(spec("full"), events), RUNS[count])
        print(figures("rebuild, 1 changed, full (kept VEVENTs)", count, *timing))
    baseline = median_ms(partial(icalendar_baseline, workload(2_000)), 3)
    print(figures("icalendar Event.new per VEVENT (baseline)", 2_000, *baseline))


if __name__ == "__main__":
    main()
