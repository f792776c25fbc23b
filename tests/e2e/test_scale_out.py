"""Three replicas behind nginx, sharing one PostgreSQL database and one Redis, keep every guarantee.

One set-up for the module (tests/support/cluster.py): three `creneau serve` processes, each with
its SMS dispatcher and webhook deliverer, texting through one fake Twilio and calling one webhook
receiver, behind Debian's nginx with the repository's deploy/creneau-proxy.conf. Every request
goes through the proxy, which spreads them over the replicas (its access log says which one
answered). PostgreSQL only: replicas share a database server (SQLite is one machine's file).
The last test SIGKILLs a replica.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.support.api import Programme, at, booking, created, family, programme, upcoming
from tests.support.cluster import Cluster, redis_url, start_cluster
from tests.support.databases import temporary_postgres
from tests.support.family_page import twilio_env, unique_mobile

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

REPLICAS = 3
API_LIMIT = 80
"""Requests per key and minute: every test books with keys of its own, below it."""
PAGE_LIMIT = 12
"""Family page requests per address and minute."""
RACERS = 50
LEASE_SECONDS = 3
WAIT_SECONDS = 30.0
CUT_SHORT = 0
"""The status noted for an answer the client got only part of (its replica killed meanwhile)."""
HOOK_PATH = "/every-event"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="module")
def cluster(fake_twilio: FakeTwilio, receiver: WebhookReceiver,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The replicas and their proxy, with one webhook endpoint taking every event."""
    env = {
        **twilio_env(fake_twilio),
        "CRENEAU_REDIS_URL": redis_url(),
        # Shared by every replica: the links one writes, another must recognise.
        "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32),
        "CRENEAU_RATE_LIMIT": f"{API_LIMIT}/minute",
        "CRENEAU_FAMILY_PAGE_PER_ADDRESS_PER_MINUTE": str(PAGE_LIMIT),
        "CRENEAU_DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "CRENEAU_WEBHOOK_ALLOW_PRIVATE": "true",
        "CRENEAU_WEBHOOK_INTERVAL_SECONDS": "0.2",
        "CRENEAU_WEBHOOK_BACKOFF_SCALE": "0.001",
        "CRENEAU_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    with temporary_postgres() as database, start_cluster(
        database, tmp_path_factory.mktemp("cluster"), replicas=REPLICAS,
        admin_key=secrets.token_urlsafe(24), env=env,
    ) as running:
        with running.client() as client:
            endpoint = created(client.post("/v1/webhook-endpoints", json={
                "url": receiver.base_url + HOOK_PATH, "events": ["appointment.booked"]}))
        receiver.secrets[HOOK_PATH] = [endpoint["secret"]]
        yield running


def _key(cluster: Cluster) -> str:
    """A new admin key: each test counts against limits of its own."""
    with cluster.client() as client:
        made = client.post("/v1/api-keys", json={"name": "replica-test", "scopes": ["admin"]})
    return str(created(made)["key"])


def _starts(prog: Programme, weeks: int) -> list[str]:
    """Distinct quarter-hour starts of ``prog`` (Wednesdays 08:00-18:00) over ``weeks`` weeks."""
    days = {upcoming(3, weeks_ahead=week) for week in range(1, weeks + 1)}
    return [at(day, f"{hour:02d}:{minute:02d}") for day in sorted(days)
            for hour in range(8, 18) for minute in (0, 15, 30, 45)]


def _quarter_hours(client: httpx.Client) -> Programme:
    return programme(client, start="08:00", end="18:00", duration=15)


def _delivered(receiver: WebhookReceiver, appointment_ids: set[str]) -> set[str]:
    """The appointments whose booking reached the receiver, signed with the endpoint's secret."""
    return {str(item.body.get("appointment_id")) for item in receiver.at(HOOK_PATH)
            if item.body and item.verified_with == (0,)} & appointment_ids


def _wait_delivered(receiver: WebhookReceiver, appointment_ids: set[str]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while _delivered(receiver, appointment_ids) != appointment_ids and time.monotonic() < deadline:
        time.sleep(0.1)
    missing = appointment_ids - _delivered(receiver, appointment_ids)
    assert not missing, f"{len(missing)} of {len(appointment_ids)} bookings never reached the receiver"


def _wait_texted(fake: FakeTwilio, numbers: set[str]) -> Counter[str]:
    """Texts per number, once every number in ``numbers`` got at least one."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        texts = Counter(message["to"] for message in fake.messages if message["to"] in numbers)
        if set(texts) == numbers or time.monotonic() > deadline:
            assert set(texts) == numbers, f"{len(numbers - set(texts))} families never got their text"
            return texts
        time.sleep(0.1)


def _booked_ids(client: httpx.Client, prog: Programme) -> set[str]:
    """Every booked appointment of the programme's staff member, read back through the proxy."""
    found: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"staff_id": prog.staff_id, "status": "booked", "limit": 500}
        page = client.get("/v1/appointments", params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        found |= {item["id"] for item in page.json()["items"]}
        cursor = page.json()["next_cursor"]
        if not cursor:
            return found


def _redis_trouble(cluster: Cluster) -> list[str]:
    """What the replicas logged about Redis (a limit counted per process while it did not answer)."""
    return [line for replica in cluster.replicas for line in replica.log().splitlines() if "Redis" in line]


def _confirmation_status(client: httpx.Client, appointment_id: str) -> str:
    """The status of the appointment's booking confirmation, once it left the outbox."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        answer = client.get(f"/v1/appointments/{appointment_id}/messages")
        assert answer.status_code == 200, answer.text
        [status] = [message["status"] for message in answer.json()["items"] if message["kind"] == "booked"]
        if status not in ("pending", "sending") or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.2)


async def test_fifty_bookings_of_one_slot_across_the_replicas_give_exactly_one(
    cluster: Cluster, receiver: WebhookReceiver
) -> None:
    key = _key(cluster)
    with cluster.client(key) as client:
        prog = _quarter_hours(client)
    start = _starts(prog, 1)[0]
    bodies = [booking(prog, start, family=family(reference=f"race-{n}")) for n in range(RACERS)]
    before = cluster.logged()
    async with cluster.async_client(key) as client:
        answers = await asyncio.gather(*(client.post("/v1/appointments", json=body) for body in bodies))
    assert Counter(answer.status_code for answer in answers) == {201: 1, 409: RACERS - 1}
    # Every replica took part in the race.
    by_replica = cluster.answered_by("/v1/appointments", after=before)
    assert len(by_replica) == REPLICAS and sum(map(len, by_replica.values())) == RACERS
    [winner] = [answer.json()["id"] for answer in answers if answer.status_code == 201]
    with cluster.client(key) as client:
        assert _booked_ids(client, prog) == {winner}
    _wait_delivered(receiver, {winner})


async def test_three_dispatchers_send_each_text_exactly_once(
    cluster: Cluster, fake_twilio: FakeTwilio
) -> None:
    key = _key(cluster)
    with cluster.client(key) as client:
        prog = _quarter_hours(client)
    phones = [unique_mobile() for _ in range(15)]
    bodies = [booking(prog, start, family=family(phone=national)) for start, (national, _) in
              zip(_starts(prog, 1), phones, strict=False)]
    async with cluster.async_client(key) as client:
        answers = await asyncio.gather(*(client.post("/v1/appointments", json=body) for body in bodies))
    ids = [created(answer)["id"] for answer in answers]
    texts = _wait_texted(fake_twilio, {e164 for _, e164 in phones})
    with cluster.client(key) as client:
        statuses = [_confirmation_status(client, id_) for id_ in ids]
    # Every confirmation is marked sent: no dispatcher can send it again. Each went out once.
    assert set(statuses) <= {"sent", "delivered"}, statuses
    assert texts == Counter({e164: 1 for _, e164 in phones})
    assert not [ref for ref, count in Counter(fake_twilio.references()).items() if count > 1]


async def test_the_api_limit_of_a_key_is_one_count_across_the_replicas(cluster: Cluster) -> None:
    key = _key(cluster)
    before = cluster.logged()
    async with cluster.async_client(key) as client:
        answers = await asyncio.gather(*(client.get("/v1/sites", params={"limit": 1})
                                         for _ in range(API_LIMIT + 10)))
    # Counted per process, each replica would have let API_LIMIT through.
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: API_LIMIT, 429: 10}, _redis_trouble(cluster)
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["code"] == "rate-limited" and 0 < int(refused.headers["Retry-After"]) <= 60
    assert len(cluster.answered_by("/v1/sites?limit=1", after=before)) == REPLICAS


def test_the_family_page_limit_of_an_address_is_one_count_across_the_replicas(cluster: Cluster) -> None:
    # Any 127.x.y.z is this machine: an address of this run's own (Redis outlives the run).
    address = "127." + ".".join(str(1 + secrets.randbelow(250)) for _ in range(3))
    transport = httpx.HTTPTransport(local_address=address)
    before = cluster.logged()
    with httpx.Client(base_url=cluster.base_url, timeout=30, transport=transport) as phone:
        paths = [f"/r/{secrets.token_hex(6)}" for _ in range(PAGE_LIMIT + 3)]
        statuses = [phone.get(path).status_code for path in paths]
    assert statuses == [404] * PAGE_LIMIT + [429] * 3, _redis_trouble(cluster)
    # The proxy named the address to each replica; every replica answered some of them.
    answered = {port for port, codes in cluster.answered_by("/r/", after=before).items() if codes}
    assert len(answered) == REPLICAS


async def test_a_replica_killed_under_load_loses_no_booking_answered_201(
    cluster: Cluster, receiver: WebhookReceiver, fake_twilio: FakeTwilio
) -> None:
    with cluster.client(_key(cluster)) as client:
        prog = _quarter_hours(client)
    starts = _starts(prog, 3)
    keys = [_key(cluster) for _ in range(6)]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for start in starts:
        queue.put_nowait(start)
    answered: list[tuple[int, dict[str, Any], str]] = []
    victim = cluster.replicas[-1]

    async def book(key: str) -> None:
        async with cluster.async_client(key) as client:
            while not queue.empty():
                national, e164 = unique_mobile()
                body = booking(prog, queue.get_nowait(), family=family(phone=national))
                try:
                    answer = await client.post("/v1/appointments", json=body)
                except httpx.RemoteProtocolError:
                    # The replica died while nginx was passing its answer on: cut short, never a 201.
                    answered.append((CUT_SHORT, {}, e164))
                else:
                    shown = answer.json() if answer.status_code == 201 else {}
                    answered.append((answer.status_code, shown, e164))
                if len(answered) == len(starts) // 3:
                    victim.process.send_signal(signal.SIGKILL)

    await asyncio.gather(*(book(key) for key in keys))
    assert victim.process.wait(timeout=10) == -signal.SIGKILL
    statuses = Counter(status for status, _, _ in answered)
    # A request in flight on the killed replica answers 502 (not re-sent: a booking is not idempotent),
    # or is cut short if the replica had begun its answer.
    assert set(statuses) <= {201, 502, CUT_SHORT}, statuses
    # Once the proxy saw the replica fail, it sends nothing more its way: the last third all booked.
    assert [status for status, _, _ in answered[-(len(starts) // 3):]] == [201] * (len(starts) // 3)
    booked = {body["id"]: e164 for status, body, e164 in answered if status == 201}
    with cluster.client(keys[0]) as client:
        assert set(booked) <= _booked_ids(client, prog)
    # Nothing the killed replica had claimed is lost: its leases run out and the others take over.
    _wait_delivered(receiver, set(booked))
    _wait_texted(fake_twilio, set(booked.values()))
