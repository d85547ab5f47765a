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
