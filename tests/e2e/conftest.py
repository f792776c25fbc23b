"""Fixtures of the end-to-end tests that text: a fake Twilio per module, and a server texting through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.databases import DatabaseHandle
from tests.support.family_page import texting_server
from tests.support.server import RunningServer


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    """A real HTTP server on loopback that records what the twilio client sends it."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="module")
def sms_server(
    module_database: DatabaseHandle, fake_twilio: FakeTwilio, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A real server process on the module's database, texting through the module's fake Twilio."""
    with texting_server(module_database, fake_twilio, tmp_path_factory.mktemp("texting")) as running:
        yield running
