"""Which addresses a webhook may reach: public ones only, unless private ones are allowed."""

from __future__ import annotations

import ipaddress

import pytest

from scheduler.webhooks.addresses import WebhookUrlRefused, check_for_registration, is_public, parse

pytestmark = pytest.mark.anyio

NOT_PUBLIC = {
    "loopback": "127.0.0.1",
    "loopback_elsewhere": "127.8.9.10",
    "private_10": "10.0.0.1",
    "private_172": "172.16.5.4",
    "private_192": "192.168.1.1",
    "link_local_metadata": "169.254.169.254",
    "cgnat": "100.64.0.1",
    "unspecified": "0.0.0.0",
    "multicast": "224.0.0.1",
    "broadcast": "255.255.255.255",
    "reserved": "240.0.0.1",
    "documentation": "192.0.2.10",
    "v6_loopback": "::1",
    "v6_unspecified": "::",
    "v6_unique_local": "fd00::1",
    "v6_link_local": "fe80::1",
    "v6_multicast": "ff02::1",
    "v4_mapped_loopback": "::ffff:127.0.0.1",
    "v4_mapped_private": "::ffff:10.0.0.1",
    "nat64_private": "64:ff9b::a00:1",
    "sixtofour_private": "2002:a00:1::1",
    "v6_documentation": "2001:db8::1",
}
PUBLIC = {"v4": "93.184.215.14", "v6": "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
          "v4_mapped_public": "::ffff:93.184.215.14"}


@pytest.mark.parametrize("address", NOT_PUBLIC.values(), ids=NOT_PUBLIC.keys())
def test_addresses_that_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC.values(), ids=PUBLIC.keys())
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "http://93.184.215.14/hook", "ftp://93.184.215.14/", "https://user:pw@93.184.215.14/", "https:///nohost",
    "https://127.0.0.1/", "https://[::ffff:7f00:1]/", "https://localhost/", "https://printer.local/",
    "https://10.0.0.1:8443/hook", "https://93.184.215.14:99999/",
])
async def test_urls_refused_at_registration(url: str) -> None:
    with pytest.raises(WebhookUrlRefused) as refused:
        await check_for_registration(url, allow_private=False)
    assert refused.value.code == "webhook-url-refused"


async def test_a_public_https_url_is_accepted() -> None:
    target = await check_for_registration("https://93.184.215.14/hooks?x=1", allow_private=False)
    assert (target.scheme, target.host, target.port) == ("https", "93.184.215.14", 443)


async def test_the_setting_allows_plain_http_to_loopback() -> None:
    target = await check_for_registration("http://127.0.0.1:8080/hook", allow_private=True)
    assert (target.scheme, target.host, target.port) == ("http", "127.0.0.1", 8080)


def test_the_setting_does_not_allow_other_schemes() -> None:
    with pytest.raises(WebhookUrlRefused):
        parse("file:///etc/passwd", allow_private=True)
