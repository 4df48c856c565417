"""Peer authorities' inboxes: deliver a signed bundle and read the answer. A real HTTP client, and a fake behind the
same interface for tests and demos.

An answer is one of: `acknowledged` (201 with their reference), `rejected` (a 4xx they will give again: the bundle
is refused for good), or `transient` (no answer, a 5xx, 408 or 429: try again later).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import requests
from requests.adapters import HTTPAdapter

INBOX_PATH = "/api/v1/handoffs/inbox"
BATCH_PATH = "/api/v1/handoffs/inbox/batch"
# Bundles per batch request: a bulk handoff sends a few large requests rather than thousands of small ones.
BATCH_SIZE = 100
_RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Delivery:
    outcome: Literal["acknowledged", "rejected", "transient"]
    reference: str | None = None
    code: str | None = None
    message: str | None = None


class PeerClient(Protocol):
    def deliver(self, base_url: str, bundle: dict[str, Any]) -> Delivery: ...

    def deliver_many(self, base_url: str, bundles: Sequence[dict[str, Any]]) -> list[Delivery]: ...


def read_answer(status: int, body: Any, bundle_id: str) -> Delivery:
    """Turn an inbox's HTTP answer into a Delivery (shared by the real client and tests)."""
    if status in (200, 201):
        reference = body.get("reference") if isinstance(body, dict) else None
        if body.get("bundle_id") != bundle_id or not isinstance(reference, str) or not reference:
            return Delivery("transient", code="bad_answer", message="The partner's answer did not name the bundle")
        return Delivery("acknowledged", reference=reference[:20])
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error.get("code", "error"))[:40] if isinstance(error, dict) else f"http_{status}"
    message = str(error.get("message", ""))[:300] if isinstance(error, dict) else f"HTTP {status}"
    if 400 <= status < 500 and status not in _RETRY_STATUSES:
        return Delivery("rejected", code=code, message=message)
    return Delivery("transient", code=code, message=message)


class HttpPeerClient:
    """POSTs bundles as JSON to `<base_url>/api/v1/handoffs/inbox`, with a connection pool per thread."""

    def __init__(self, timeout: float = 10.0, concurrency: int = 8) -> None:
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.mount("http://", HTTPAdapter(pool_maxsize=4))
            session.mount("https://", HTTPAdapter(pool_maxsize=4))
            session.headers.update({"Content-Type": "application/json", "User-Agent": "can-crm-handoff/1"})
            self._local.session = session
        return session

    def deliver(self, base_url: str, bundle: dict[str, Any]) -> Delivery:
        url = base_url.rstrip("/") + INBOX_PATH
        try:
            response = self._session().post(url, data=json.dumps(bundle).encode("utf-8"), timeout=self.timeout)
        except requests.RequestException as exc:
            return Delivery("transient", code="unreachable", message=type(exc).__name__)
        try:
            body = response.json()
        except ValueError:
            body = None
        return read_answer(response.status_code, body, str(bundle.get("bundle_id")))

    def _deliver_batch(self, base_url: str, bundles: Sequence[dict[str, Any]]) -> list[Delivery]:
        """One batch request; a partner without the batch inbox (404, 405) gets the bundles one by one."""
        url = base_url.rstrip("/") + BATCH_PATH
        try:
            response = self._session().post(
                url, data=json.dumps({"bundles": list(bundles)}).encode("utf-8"), timeout=self.timeout * 3
            )
        except requests.RequestException as exc:
            return [Delivery("transient", code="unreachable", message=type(exc).__name__)] * len(bundles)
        if response.status_code in (404, 405):
            return [self.deliver(base_url, b) for b in bundles]
        try:
            body = response.json()
        except ValueError:
            body = None
        results = body.get("results") if isinstance(body, dict) and response.status_code == 200 else None
        if not isinstance(results, list) or len(results) != len(bundles):
            answer = read_answer(response.status_code, body, "")
            return [Delivery("transient", code=answer.code, message=answer.message)] * len(bundles)
        out = []
        for bundle, result in zip(bundles, results, strict=True):
            status = result.get("status") if isinstance(result, dict) else None
            item = (
                {"bundle_id": result.get("bundle_id"), "reference": result.get("reference")}
                if status == 201
                else result
            )
            out.append(read_answer(status if isinstance(status, int) else 502, item, str(bundle.get("bundle_id"))))
        return out

    def deliver_many(self, base_url: str, bundles: Sequence[dict[str, Any]]) -> list[Delivery]:
        if len(bundles) <= 1:
            return [self.deliver(base_url, b) for b in bundles]
        batches = [bundles[i : i + BATCH_SIZE] for i in range(0, len(bundles), BATCH_SIZE)]
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(batches)))) as pool:
            answers = list(pool.map(lambda batch: self._deliver_batch(base_url, batch), batches))
        return [delivery for batch in answers for delivery in batch]


@dataclass
class FakePeerClient:
    """Records what was sent; answers with `responder(base_url, bundle)` (default: acknowledge as CAN-FAKE-0001)."""

    responder: Callable[[str, dict[str, Any]], Delivery] | None = None
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def deliver(self, base_url: str, bundle: dict[str, Any]) -> Delivery:
        self.sent.append((base_url, bundle))
        if self.responder is not None:
            return self.responder(base_url, bundle)
        return Delivery("acknowledged", reference="CAN-FAKE-0001")

    def deliver_many(self, base_url: str, bundles: Sequence[dict[str, Any]]) -> list[Delivery]:
        return [self.deliver(base_url, b) for b in bundles]
