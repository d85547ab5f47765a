"""GitLab's side of the shared HTTP layer: its token header and its page headers.

GitLab pages lists by offset (``page``/``per_page``) and says where the next page is in ``X-Next-Page`` (empty
on the last page), and again in a ``Link`` header; ``X-Total`` is left out above 10,000 results, so neither
the total nor a full last page is relied on to stop.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bot.connectors.errors import UnexpectedResponse
from bot.connectors.http import HttpClient, TokenAuth


class PrivateTokenAuth(TokenAuth):
    """GitLab's ``PRIVATE-TOKEN`` header (personal, project and group access tokens)."""

    header = "PRIVATE-TOKEN"


@dataclass(frozen=True)
class Page:
    """One page of a GitLab list: its entries, the next page number if any, the total if GitLab said."""

    items: list[Any]
    next_page: int | None
    total: int | None


def get_page(http: HttpClient, path: str, params: Mapping[str, Any]) -> Page:
    """GET one page of a list endpoint."""
    response = http.request("GET", path, params=params)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, list):
        raise UnexpectedResponse(
            f"GitLab answered {response.request.url.path} with something other than a JSON list: check that "
            "api_url points at the API (e.g. https://gitlab.example.com/api/v4)"
        )
    total = response.headers.get("X-Total", "")
    return Page(body, _next_page(response, params, len(body)), int(total) if total.isdigit() else None)


def get_all(http: HttpClient, path: str, params: Mapping[str, Any]) -> Iterator[Any]:
    """Every entry of a list endpoint, page by page (``params`` must hold ``per_page``)."""
    page = 1
    while True:
        found = get_page(http, path, {**params, "page": page})
        yield from found.items
        if found.next_page is None or not found.items:
            return
        if found.next_page <= page:
            raise UnexpectedResponse(
                f"GitLab sent page {found.next_page} as the page after {page} of {path}, so paging would "
                "never end; try again later, and report it if it persists"
            )
        page = found.next_page


def _next_page(response: httpx.Response, params: Mapping[str, Any], count: int) -> int | None:
    header = response.headers.get("X-Next-Page")
    if header is not None:
        return int(header) if header.strip().isdigit() else None
    following = response.links.get("next", {}).get("url")
    if following:
        pages = parse_qs(urlsplit(following).query).get("page", [])
        return int(pages[0]) if pages and pages[0].isdigit() else None
    # A proxy stripped both headers: a full page may have a successor, a short one has none.
    per_page = int(params.get("per_page", 20))
    return int(params.get("page", 1)) + 1 if count >= per_page else None
