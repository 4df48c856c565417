"""Every job handler and periodic task, by name. This module imports no service and no handler.

Handlers are named by dotted path and imported on first use, so the services that start jobs (and the runner
that executes them) never import the handlers that call those services: the dependency points one way,
web -> handlers -> services -> jobs infrastructure -> models. A new job is one line here plus its handler.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

HANDLERS: dict[str, str] = {
    "selftest": "can_crm.jobs.handlers.selftest:selftest",
    "matching_run": "can_crm.jobs.handlers.matching:matching_run",
    "plan_rounds": "can_crm.jobs.handlers.rounds:plan_rounds",
    "render_heatmap": "can_crm.jobs.handlers.maps:render_heatmap",
    "send_notification": "can_crm.jobs.handlers.notifications:send_notification",
    "import_shielded": "can_crm.jobs.handlers.outreach:import_shielded",
    "campaign_contact": "can_crm.jobs.handlers.outreach:campaign_contact",
    "push_handoffs": "can_crm.jobs.handlers.federation:push_handoffs",
}

# What the timer thread in each app process runs every JOB_SWEEP_SECONDS, in order, one transaction each.
PERIODIC: tuple[str, ...] = (
    "can_crm.jobs.sweeper:sweep",
    "can_crm.jobs.handlers.matching:run_scheduled",
    "can_crm.jobs.handlers.tracing:release_due",
    "can_crm.jobs.handlers.volunteers:lone_working",
    "can_crm.jobs.handlers.notifications:retry_due",
    "can_crm.jobs.handlers.notifications:follow_up_unanswered",
    "can_crm.jobs.handlers.federation:retry_due_handoffs",
    "can_crm.jobs.handlers.privacy:retention_daily",
)

_resolved: dict[str, Callable[..., Any]] = {}


def names() -> frozenset[str]:
    return frozenset(HANDLERS)


def resolve(path: str) -> Callable[..., Any]:
    """The function behind a dotted `module:function` path (cached)."""
    fn = _resolved.get(path)
    if fn is None:
        module, _, attr = path.partition(":")
        fn = getattr(importlib.import_module(module), attr)
        _resolved[path] = fn
    return fn


def handler_for(name: str) -> Callable[..., Any] | None:
    path = HANDLERS.get(name)
    return resolve(path) if path else None


def periodic_tasks() -> list[Callable[..., Any]]:
    return [resolve(path) for path in PERIODIC]
