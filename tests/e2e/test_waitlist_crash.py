"""A waiting list's offers survive SIGKILL: the processes making offers and texting them are killed
at random points and restarted; in the end every waiting family got exactly one offer and exactly
one SMS (an offer and its text are written in one transaction, and the outbox sends it once)."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from scheduler.db import outbox
from scheduler.db.engine import Database
from scheduler.db.tables import Family, new_id
from scheduler.db.waitlist_tables import WaitlistEntry, WaitlistOffer, WaitlistWake
from tests.e2e.test_sms_crash import _count, _env, _spawn, _wait_for_accepted
from tests.fakes.fake_twilio import FakeTwilio
from tests.support import seed
from tests.support.databases import DatabaseHandle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
FAMILIES = 60
KILLS = 3
FINISH_SECONDS = 90


async def _seed(url: str) -> list[str]:
    """A service with 24 half-hour slots every Wednesday, free, and ``FAMILIES`` families waiting."""
    db = Database.from_url(url)
    try:
        prog = await seed.programme(db, start="08:00", end="20:00", duration=30)
        now = datetime.now(UTC)
        phones = [seed.mobile(900_000 + index) for index in range(FAMILIES)]
        families = [{"id": new_id(), "reference": f"WAIT-{index}", "phone": phone, "language": "fr",
                     "sms_consent": True, "created_at": now, "updated_at": now}
                    for index, phone in enumerate(phones)]
        entries = [{"id": new_id(), "service_id": prog.service_id, "family_id": row["id"],
                    "arrival": index + 1, "status": "waiting", "offers_sent": 0, "offers_ignored": 0,
                    "created_at": now, "updated_at": now} for index, row in enumerate(families)]
        async with db.write() as session:
            await session.execute(insert(Family), families)
            await session.execute(insert(WaitlistEntry), entries)
            await session.execute(insert(WaitlistWake).values(created_at=now))
        return phones
    finally:
        await db.dispose()


async def _offers(url: str) -> Counter[str]:
    db = Database.from_url(url)
    try:
        async with db.read() as session:
            rows = (await session.execute(
                select(WaitlistOffer.entry_id, func.count()).group_by(WaitlistOffer.entry_id))).all()
            return Counter({str(row[0]): int(row[1]) for row in rows})
    finally:
        await db.dispose()


def test_killed_processes_offer_and_text_each_waiting_family_exactly_once(
    module_database: DatabaseHandle, tmp_path: Path
) -> None:
    phones = asyncio.run(_seed(module_database.url))
    rng = random.Random(20261205)
    log = tmp_path / "offers.log"
    with FakeTwilio() as fake:
        fake.hold_in_queue()
        env = {**_env(module_database, fake), "CRENEAU_WAITLIST_OFFER_HOURS": ""}
        offered_not_texted = 0
        for _ in range(KILLS):
            process = _spawn(env, log)
            _wait_for_accepted(fake, len(fake.messages) + rng.randint(1, FAMILIES // (2 * KILLS)))
            process.send_signal(signal.SIGKILL)
            process.wait()
            # Offers chosen (committed) whose texts Twilio had not accepted when the process died.
            offered_not_texted += sum(asyncio.run(_offers(module_database.url)).values()) - len(fake.messages)
        process = _spawn(env, log)
        try:
            deadline = time.monotonic() + FINISH_SECONDS
            while time.monotonic() < deadline and (
                sum((asyncio.run(_offers(module_database.url))).values()) < FAMILIES
                or asyncio.run(_count(module_database.url, outbox.PENDING, outbox.SENDING))
            ):
                time.sleep(0.5)
        finally:
            process.terminate()
            process.wait(timeout=20)
        texted = Counter(str(message["to"]) for message in fake.messages)
    offers = asyncio.run(_offers(module_database.url))
    print(f"\nwaiting list crash proof [{module_database.kind}]: {KILLS} kills, {FAMILIES} families, "
          f"{len(offers)} with an offer, {sum(texted.values())} texts to {len(texted)} numbers, "
          f"{offered_not_texted} offers caught untexted by a kill")
    assert offered_not_texted > 0, "no kill landed between choosing an offer and texting it"
    assert sorted(offers.values()) == [1] * FAMILIES
    assert texted == Counter({phone: 1 for phone in phones})
