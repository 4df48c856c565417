"""Coordinator data-protection pages: a resident's consents, Art. 22 reviews, subject access and erasure
(the last two for coordinators with the privacy permission, after re-entering their password), the open
review tasks, and the records coming due under the retention schedule."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.extensions import db
from can_crm.models.enums import LawfulBasis
from can_crm.models.resident import Resident
from can_crm.services.accounts import users
from can_crm.services.common.errors import DomainError, FieldErrors
from can_crm.services.privacy import consent, erasure, reads, retention, subject_access


def _resident(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        abort(404)
    return resident


def _render(resident: Resident, status: int = 200, errors: dict[str, str] | None = None) -> Any:
    reads.record_view(current_user, resident.id)
    return render_template(
        "coordinator/privacy.html",
        resident=resident,
        consents=consent.consents_for(resident.id),
        reviews=consent.reviews_for(resident.id),
        purposes=consent.PURPOSES,
        bases=[b.value for b in LawfulBasis],
        blockers=erasure.blockers(resident.id),
        errors=errors or {},
        title=f"Data protection: resident {resident.id}",
    ), status


@bp.get("/privacy/residents/<int:resident_id>")
@roles(*STAFF)
def resident_privacy(resident_id: int) -> Any:
    return _render(_resident(resident_id))


@bp.post("/privacy/residents/<int:resident_id>/consents")
@roles(*STAFF)
def add_consent(resident_id: int) -> Any:
    resident = _resident(resident_id)
    form = request.form
    try:
        consent.record_consent(
            resident.id,
            form.get("purpose", ""),
            form.get("lawful_basis", ""),
            form.get("given") == "yes",
            form.get("source", ""),
            current_user.id,
        )
    except FieldErrors as exc:
        return _render(resident, 400, exc.fields)
    flash("Consent recorded", "success")
    return redirect(url_for("coordinator.resident_privacy", resident_id=resident.id))


@bp.post("/privacy/residents/<int:resident_id>/reviews")
@roles(*STAFF)
def add_review(resident_id: int) -> Any:
    resident = _resident(resident_id)
    try:
        consent.open_review(
            resident.id, request.form.get("decision", ""), request.form.get("grounds", ""), current_user.id
        )
    except DomainError as exc:
        return _render(resident, 400, {exc.field or "decision": exc.message})
    flash("Review task opened", "success")
    return redirect(url_for("coordinator.resident_privacy", resident_id=resident.id))


def _sensitive(resident: Resident) -> Any | None:
    """The privacy permission, and the password typed again on this very form."""
    if not current_user.privacy_officer:
        abort(403)
    if not users.check_password(current_user, request.form.get("password", "")):
        return _render(resident, 400, {"password": "Enter your password to confirm"})
    return None


@bp.post("/privacy/residents/<int:resident_id>/subject-access")
@roles(*STAFF)
def download_subject_access(resident_id: int) -> Any:
    resident = _resident(resident_id)
    refused = _sensitive(resident)
    if refused is not None:
        return refused
    result = subject_access.export(resident.id, current_user.id, current_user.role)
    as_json = request.form.get("format") == "json"
    body = json.dumps(result.as_json(), indent=2, default=str) if as_json else subject_access.render_html(result)
    name = f"subject-access-{resident.id}.{'json' if as_json else 'html'}"
    return Response(
        body,
        mimetype="application/json" if as_json else "text/html",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/privacy/residents/<int:resident_id>/erasure")
@roles(*STAFF)
def erase(resident_id: int) -> Any:
    resident = _resident(resident_id)
    refused = _sensitive(resident)
    if refused is not None:
        return refused
    try:
        erasure.erase(resident.id, request.form.get("reason", ""), current_user.id, current_user.role)
    except erasure.ErasureBlocked as exc:
        return _render(resident, 409, {"reason": exc.message})
    except DomainError as exc:
        return _render(resident, 400, {exc.field or "reason": exc.message})
    flash("The resident's record was anonymised", "success")
    return redirect(url_for("coordinator.resident_privacy", resident_id=resident.id))


@bp.get("/privacy/reviews")
@roles(*STAFF)
def reviews() -> Any:
    return render_template(
        "coordinator/reviews.html", tasks=consent.open_reviews(), title="Reviews of automated decisions"
    )


@bp.post("/privacy/reviews/<int:task_id>")
@roles(*STAFF)
def resolve_review(task_id: int) -> Any:
    try:
        consent.resolve_review(task_id, request.form.get("outcome", ""), current_user.id)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("coordinator.reviews"))
    flash("Review resolved", "success")
    return redirect(url_for("coordinator.reviews"))


@bp.get("/privacy/retention")
@roles(*STAFF)
def retention_notices() -> Any:
    return render_template(
        "coordinator/retention.html",
        notices=retention.notices(),
        runs=retention.recent_runs(),
        schedule=retention.schedule(),
        title="Retention",
    )
