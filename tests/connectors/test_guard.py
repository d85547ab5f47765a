"""The guard on addresses typed in Slack (bot/connectors/guard.py), through real sockets on loopback."""

from __future__ import annotations

import ipaddress

import pytest

from bot.config import Settings
from bot.connectors.errors import ConnectorError
from bot.connectors.guard import AddressPolicy, RefusedAddress
from bot.connectors.http import HttpClient, HttpOptions
from tests.fakes.jira import FakeJira


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "224.0.0.1", "0.0.0.0",
     "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "100.64.0.1"],
)  # fmt: skip
def test_private_loopback_link_local_multicast_and_reserved_addresses_are_refused(address: str):
    assert not AddressPolicy().allows("tracker.example", ipaddress.ip_address(address))


def test_public_addresses_pass_and_the_allow_list_admits_hosts_domains_and_networks():
    policy = AddressPolicy.parse("jira.corp.example, .git.example 10.20.0.0/16 192.168.7.7")
    assert AddressPolicy().allows("example.com", ipaddress.ip_address("93.184.216.34"))
    assert policy.allows("jira.corp.example", ipaddress.ip_address("10.9.9.9"))
    assert policy.allows("lab.git.example", ipaddress.ip_address("172.16.0.1"))
    assert policy.allows("anything", ipaddress.ip_address("10.20.3.4"))
    assert policy.allows("anything", ipaddress.ip_address("192.168.7.7"))
    assert not policy.allows("notjira.corp.example.evil", ipaddress.ip_address("10.9.9.9"))
    assert not policy.allows("anything", ipaddress.ip_address("10.21.0.1"))
    assert policy.allows_plain_http("jira.corp.example") and policy.allows_plain_http("10.20.0.1")
    assert not policy.allows_plain_http("example.com")


def test_a_typo_in_the_allow_list_stops_with_the_variables_name():
    with pytest.raises(ValueError, match="FLOWCOACH_ALLOWED_HOSTS"):
        Settings(_env_file=None, FLOWCOACH_ALLOWED_HOSTS="jira.corp.example, 10.0.0.0/33")


def test_the_guarded_client_never_connects_to_loopback_unless_allowed():
    """Refused at the socket, by address and by a name that resolves to loopback; the fake sees nothing.
    Allowed networks go through, plain http:// included."""
    with FakeJira("cloud", token="t") as jira:
        guarded = HttpOptions(guard=AddressPolicy(), max_retries=0)
        for url in (jira.url, jira.url.replace("127.0.0.1", "localhost")):
            client = HttpClient(url, service="Jira", options=guarded)
            with client, pytest.raises(RefusedAddress) as no:
                client.get_json("/rest/api/3/myself")
            assert isinstance(no.value, ConnectorError) and "FLOWCOACH_ALLOWED_HOSTS" in str(no.value)
        assert jira.requests == []
        allowed = HttpOptions(guard=AddressPolicy.parse("127.0.0.0/8"), max_retries=0)
        with HttpClient(jira.url, service="Jira", auth=(jira.email, "t"), options=allowed) as client:
            client.get_json("/rest/api/3/myself")
        assert jira.requests


def test_a_typed_address_is_judged_up_front_for_the_forms_field_error():
    """``url_problem`` words the refusal before anything connects: plain http, loopback by address or by
    name, metadata addresses; public and allowed addresses pass, as do texts that are not addresses."""
    strict, intranet = AddressPolicy(), AddressPolicy.parse("127.0.0.0/8 .corp.example")
    assert "https://" in str(strict.url_problem("http://93.184.216.34/jira"))
    for url in ("https://127.0.0.1:8443", "https://localhost/", "https://169.254.169.254/latest", "https://[::1]/"):
        assert "FLOWCOACH_ALLOWED_HOSTS" in str(strict.url_problem(url)), url
    assert strict.url_problem("https://93.184.216.34/") is None
    assert intranet.url_problem("http://127.0.0.1:8080") is None
    assert intranet.url_problem("http://jira.corp.example") is None  # allowed by name, resolved or not
    assert strict.url_problem("PAY") is None and strict.url_problem("") is None


def test_a_name_that_does_not_resolve_in_time_is_left_to_the_connection_check():
    """A slow resolver never holds the person's form: the guard at connection time still judges it."""
    assert AddressPolicy().url_problem("https://no-such-host.invalid/", resolve_within=0.001) is None
