"""Addresses typed in Slack are untrusted: connections to private, loopback, link-local, multicast or
reserved addresses are refused unless the operator allowed them (``FLOWCOACH_ALLOWED_HOSTS``).

The check happens where the socket is opened, on the addresses the name resolved to, and the connection is
made to the very address that was checked: a name that resolves to a public address for a first check and
to 169.254.169.254 a moment later (DNS rebinding), or a redirect to an internal host, is refused the same
way. Plain ``http://`` is refused too unless the host is allowed: credentials would travel in clear text.
The command line, run by the operator, connects without this guard.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from bot.connectors.errors import ConnectorError

RESOLVE_SECONDS = 1.0  # how long a person's form waits for a name to resolve before the check moves on
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(ConnectorError):
    """An address boards connected from Slack may not reach."""


class AddressPolicy:
    """Which hosts a Slack-connected board may reach beyond the public internet.

    Entries are host names (``jira.corp.example``), domains (``.corp.example`` or ``corp.example``: the
    name and every name under it) and networks in CIDR form (``10.20.0.0/16``, a single ``10.0.0.7``).
    """

    def __init__(self, entries: Iterable[str] = ()) -> None:
        names: list[str] = []
        networks: list[Network] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                name = entry.strip(".")
                if not name or not all(label.replace("-", "").isalnum() for label in name.split(".")):
                    raise ValueError(f"'{raw.strip()}' is not a host name, a domain or a network") from None
                names.append(name)
        self.names: tuple[str, ...] = tuple(names)
        self.networks: tuple[Network, ...] = tuple(networks)

    @classmethod
    def parse(cls, text: str | None) -> AddressPolicy:
        """From ``FLOWCOACH_ALLOWED_HOSTS``: entries separated by commas or spaces."""
        return cls((text or "").replace(",", " ").split())

    def allows_name(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == name or host.endswith("." + name) for name in self.names)

    def allows(self, host: str, address: Address) -> bool:
        """Whether a connection to ``address`` (which ``host`` resolved to) may be made."""
        if _public(address):
            return True
        return self.allows_name(host) or any(address in network for network in self.networks)

    def allows_plain_http(self, host: str) -> bool:
        try:
            literal: Address | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            return any(literal in network for network in self.networks)
        return self.allows_name(host)


    def url_problem(self, url: str, *, resolve_within: float = RESOLVE_SECONDS) -> str | None:
        """Why connecting to ``url`` would be refused, judged now: for an error on the form's address field.

        The name is resolved with a time limit, as this runs while a person waits; a name that does not
        resolve in time is let through here, since every connection is judged again when it opens.
        """
        parts = urlsplit(url.strip())
        host = parts.hostname
        if not host or parts.scheme not in ("http", "https"):
            return None  # not an address: the connector's own validation words that
        if parts.scheme != "https" and not self.allows_plain_http(host):
            return plain_http_refusal(host)
        addresses = _resolved(host, parts.port or (443 if parts.scheme == "https" else 80), resolve_within)
        if addresses and not all(self.allows(host, address) for address in addresses):
            return refusal(host)
        return None


_resolver = ThreadPoolExecutor(max_workers=2, thread_name_prefix="flowcoach-resolve")


def _resolved(host: str, port: int, within: float) -> list[Address]:
    """The addresses ``host`` resolves to; none when it does not resolve within ``within`` seconds."""
    try:
        found = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(within)
    except (OSError, TimeoutError):
        return []
    return _addresses(found)


def _addresses(found: Sequence[Any]) -> list[Address]:
    """The IP addresses in ``socket.getaddrinfo``'s answer (an IPv6 zone suffix dropped)."""
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved)


def plain_http_refusal(host: str) -> str:
    return (
        f"{host}: use an https:// address (plain http:// is only for hosts whoever runs flowcoach allowed "
        "in FLOWCOACH_ALLOWED_HOSTS)"
    )


def refusal(host: str) -> str:
    return (
        f"{host} is a private, loopback or link-local address, which boards connected from Slack may not "
        "reach; ask whoever runs flowcoach to allow it (FLOWCOACH_ALLOWED_HOSTS)"
    )


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's sockets, opened only to addresses the policy allows, and to exactly the one checked."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        addresses = _addresses(found)
        if not addresses or not all(self._policy.allows(host, address) for address in addresses):
            raise RefusedAddress(refusal(host))
        return super().connect_tcp(
            str(addresses[0]),
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )


class GuardedTransport(httpx.BaseTransport):
    """The network, through :class:`GuardedBackend`, refusing plain ``http://`` to hosts not allowed."""

    def __init__(self, policy: AddressPolicy, *, verify: Any) -> None:
        self._policy = policy
        self._inner = httpx.HTTPTransport(verify=verify)
        # httpx has no public hook for the socket layer; its pool's backend is where connections are opened.
        self._inner._pool._network_backend = GuardedBackend(policy)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https" and not self._policy.allows_plain_http(request.url.host):
            raise RefusedAddress(plain_http_refusal(request.url.host))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
