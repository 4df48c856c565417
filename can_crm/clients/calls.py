"""Automated calls for outreach campaigns: the interface, and a fake for development and tests.

A real provider (an IVR service a council contracts) places a recorded call ("Press 1 if you need help...")
and reports what the person pressed. The fake answers at once, the same way for the same number, with
outcomes spread roughly as the council's 2020 calls went.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from flask import Flask


@dataclass(frozen=True)
class CallResult:
    call_id: str
    outcome: str  # a ContactOutcome value


class CallProvider(Protocol):
    name: str

    def place_call(self, phone: str, reference: str) -> CallResult: ...


class FakeCallProvider:
    name = "fake"
    # Per 100 calls: 14 ask for help, 56 need nothing, 18 no answer, 6 wrong numbers, 6 decline.
    _SPREAD = (
        (14, "needs_help"),
        (70, "no_help_needed"),
        (88, "no_answer"),
        (94, "wrong_number"),
        (100, "declined"),
    )

    def place_call(self, phone: str, reference: str) -> CallResult:
        bucket = int(hashlib.sha256(phone.encode()).hexdigest(), 16) % 100
        outcome = next(name for limit, name in self._SPREAD if bucket < limit)
        return CallResult(f"fake-{reference}", outcome)


def call_provider_for(app: Flask) -> CallProvider:
    name = app.config.get("CALL_PROVIDER", "fake")
    if name != "fake":
        raise RuntimeError(f"CALL_PROVIDER={name!r}: no such automated-call provider is installed")
    return FakeCallProvider()
