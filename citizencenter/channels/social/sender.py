"""The Send API adapter: builds Meta's requests and posts them over a pluggable transport.

A transport says what happened to one HTTP request: an answer (any status), surely not
delivered (`TransportUnreachable`) or perhaps delivered with no answer
(`TransportUncertain`). The difference decides whether a reply may be tried again.
"""

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from citizencenter.channels.social import meta

# Graph API error codes that mean "try again later" (temporary or throttled).
TRANSIENT_ERROR_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})


class TransportUnreachable(Exception):
    """The request did not reach the server (refused, no route, name not found)."""


class TransportUncertain(Exception):
    """The request may have reached the server, but no answer came."""


@dataclass(frozen=True)
class TransportResponse:
    status: int
    body: bytes


class Transport(Protocol):
    def send(self, request: meta.SendRequest, timeout_s: float) -> TransportResponse: ...


class UrllibTransport:
    """Posts with the standard library; never follows redirects for a POST."""

    def send(self, request: meta.SendRequest, timeout_s: float) -> TransportResponse:
        http_request = urllib.request.Request(request.url, data=request.body,
                                              method=request.method, headers=request.headers)
        try:
            with urllib.request.urlopen(http_request, timeout=timeout_s) as response:
                return TransportResponse(response.status, response.read())
        except urllib.error.HTTPError as exc:
            return TransportResponse(exc.code, exc.read())
        except urllib.error.URLError as exc:  # raised while connecting or writing
            raise TransportUnreachable(type(exc.reason).__name__) from None
        except (OSError, http.client.HTTPException) as exc:  # while waiting for the answer
            raise TransportUncertain(type(exc).__name__) from None


@dataclass(frozen=True)
class SendOutcome:
    """sent, retry (surely not delivered, try later), rejected (for good) or uncertain."""

    result: str
    message_id: str | None = None
    error: str | None = None


def _error_code(body: bytes) -> tuple[int | None, str]:
    try:
        error = json.loads(body).get("error") or {}
        code = error.get("code")
        return (code if isinstance(code, int) else None,
                f"code {code}, subcode {error.get('error_subcode')}, {error.get('type')}")
    except (ValueError, AttributeError):
        return None, "no Graph API error in the answer"


class MetaSender:
    """Answers citizens on Messenger and Instagram through the Graph API."""

    def __init__(self, page_access_token: str, app_secret: str, transport: Transport, *,
                 graph_url: str = meta.GRAPH_URL, graph_version: str = "v19.0",
                 timeout_s: float = 10):
        self.page_access_token, self.app_secret = page_access_token, app_secret
        self.transport, self.timeout_s = transport, timeout_s
        self.graph_url, self.graph_version = graph_url.rstrip("/"), graph_version

    @classmethod
    def from_config(cls, config: Mapping, transport: Transport | None = None) -> "MetaSender":
        return cls(config["META_PAGE_ACCESS_TOKEN"], config["META_APP_SECRET"],
                   transport or UrllibTransport(), graph_url=config["META_GRAPH_URL"],
                   graph_version=config["META_GRAPH_VERSION"],
                   timeout_s=config["META_SEND_TIMEOUT_S"])

    @property
    def configured(self) -> bool:
        return bool(self.page_access_token and self.app_secret)

    @property
    def in_flight_for(self) -> timedelta:
        """How long a post may take before an unfinished one counts as lost."""
        return timedelta(seconds=2 * self.timeout_s + 30)

    def requests(self, recipient_id: str, text: str) -> list[meta.SendRequest]:
        """The Send API requests for a reply, one per 2000-character part."""
        built = meta.build_send_request(self.page_access_token, self.app_secret, recipient_id,
                                        text, graph_version=self.graph_version)
        return [replace(r, url=self.graph_url + r.url[len(meta.GRAPH_URL):]) for r in built]

    def send(self, request: meta.SendRequest) -> SendOutcome:
        try:
            response = self.transport.send(request, self.timeout_s)
        except TransportUnreachable as exc:
            return SendOutcome("retry", error=f"Graph API unreachable: {exc}")
        except TransportUncertain as exc:
            return SendOutcome("uncertain", error=f"no answer from the Graph API: {exc}")
        if 200 <= response.status < 300:
            try:
                message_id = json.loads(response.body).get("message_id")
            except (ValueError, AttributeError):
                message_id = None
            return SendOutcome("sent", message_id=message_id if isinstance(message_id, str)
                               else None)
        code, described = _error_code(response.body)
        error = f"Graph API {response.status}: {described}"
        if response.status == 429 or response.status >= 500 or code in TRANSIENT_ERROR_CODES:
            return SendOutcome("retry", error=error)
        return SendOutcome("rejected", error=error)
