"""Matching pages: start a run, watch it, decide on its proposals; the admin's per-type settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from can_crm.access import STAFF, roles
from can_crm.coordinator.matching_forms import (
    ApproveForm,
    MatchingSettingsForm,
    OverrideForm,
    RejectForm,
    StartRunForm,
    settings_data,
)
from can_crm.forms import show_errors
from can_crm.models.enums import Role
from can_crm.services.common.errors import Conflict, FieldErrors, NotFound, ValidationError
from can_crm.services.matching import decisions
from can_crm.services.matching import runs as matching_runs

bp = Blueprint("matching_web", __name__)

REFRESH_SECONDS = 2
REASON_LABELS = {
    "no_volunteer_with_skills": "No volunteer with the skills",
    "dbs_level": "No volunteer with the DBS check",
    "none_within_distance": "No volunteer near enough",
    "all_excluded": "Every suitable volunteer declined before",
    "capacity_taken": "Suitable volunteers are all busy",
    "location_unknown": "The resident's location is unknown",
}


def _render_start(form: StartRunForm, status: int = 200) -> Any:
    return render_template(
        "matching_web/start.html", form=form, runs=matching_runs.recent_runs(), title="Matching"
    ), status


@bp.route("/coordinator/matching", methods=["GET", "POST"])
@roles(*STAFF)
def start() -> Any:
    form = StartRunForm()
    if form.is_submitted():
        try:
            run = matching_runs.start_run(current_user, list(form.request_types.data or []))
        except FieldErrors as exc:
            show_errors(form, exc)
            return _render_start(form, 400)
        return redirect(url_for("matching_web.run", run_id=run.id))
    return _render_start(form)


def _render_run(
    run_id: int,
    status: int = 200,
    *,
    problem: str | None = None,
    failed: dict[str, Any] | None = None,
    form: Any = None,
) -> Any:
    view = matching_runs.run_view(run_id)
    refresh = REFRESH_SECONDS if view.status == "running" else None
    return render_template(
        "matching_web/run.html",
        view=view,
        run=view.run,
        refresh=refresh,
        problem=problem,
        failed=failed or {},
        form=form,
        reason_labels=REASON_LABELS,
        actionable=matching_runs.is_actionable,
        title=f"Matching run {view.run.id}",
    ), status


@bp.get("/coordinator/matching/runs/<int:run_id>")
@roles(*STAFF)
def run(run_id: int) -> Any:
    return _render_run(run_id)


@bp.post("/coordinator/matching/runs/<int:run_id>/approve")
@roles(*STAFF)
def approve(run_id: int) -> Any:
    form = ApproveForm()
    matching_runs.get_run(run_id)
    try:
        if form.action.data == "all":
            approved = decisions.approve_all(run_id, current_user)
        else:
            ids = form.ids()
            if ids and not set(ids) <= {p.id for p in matching_runs.run_view(run_id, with_options=False).proposals}:
                raise ValidationError("Select proposals from this run", "proposal_ids")
            approved = decisions.approve(ids, current_user)
    except (ValidationError, NotFound) as exc:
        return _render_run(run_id, 400, problem=exc.message)
    except Conflict as exc:
        return _render_run(run_id, 409, problem=exc.message)
    flash(
        f"{len(approved)} proposal{'' if len(approved) == 1 else 's'} approved: the volunteers have been offered "
        "the requests",
        "success",
    )
    return redirect(url_for("matching_web.run", run_id=run_id))


def _proposal_run(proposal_id: int) -> int:
    return decisions.get_proposal(proposal_id).run_id


@bp.post("/coordinator/matching/proposals/<int:proposal_id>/reject")
@roles(*STAFF)
def reject(proposal_id: int) -> Any:
    run_id = _proposal_run(proposal_id)
    form = RejectForm(prefix=f"r{proposal_id}")
    try:
        decisions.reject(proposal_id, current_user, form.note.data)
    except FieldErrors as exc:
        failed = {"id": proposal_id, "kind": "reject", "errors": exc.fields, "note": form.note.data}
        return _render_run(run_id, 400, problem=exc.message, failed=failed)
    except Conflict as exc:
        return _render_run(run_id, 409, problem=exc.message)
    flash("Proposal rejected: the request stays triaged", "success")
    return redirect(url_for("matching_web.run", run_id=run_id))


@bp.post("/coordinator/matching/proposals/<int:proposal_id>/override")
@roles(*STAFF)
def override(proposal_id: int) -> Any:
    run_id = _proposal_run(proposal_id)
    form = OverrideForm(prefix=f"p{proposal_id}")
    try:
        decisions.override(proposal_id, form.volunteer_id.data, current_user, form.note.data)
    except FieldErrors as exc:
        failed = {
            "id": proposal_id,
            "kind": "override",
            "errors": exc.fields,
            "note": form.note.data,
            "volunteer_id": form.volunteer_id.data,
        }
        return _render_run(run_id, 400, problem=exc.message, failed=failed)
    except Conflict as exc:
        return _render_run(run_id, 409, problem=exc.message)
    flash("Volunteer chosen by hand: the request has been offered to them", "success")
    return redirect(url_for("matching_web.run", run_id=run_id))


@bp.route("/admin/matching-settings", methods=["GET", "POST"])
@roles(Role.ADMIN)
def settings() -> Any:
    rows = matching_runs.settings_rows()
    if not MatchingSettingsForm().is_submitted():
        data: dict[str, Any] = {}
        for s in rows:
            data |= {
                f"{s.request_type}_auto_run": s.auto_run,
                f"{s.request_type}_auto_approve": s.auto_approve,
                f"{s.request_type}_interval_minutes": str(s.interval_minutes),
            }
        form = MatchingSettingsForm(formdata=None, data=data)
    else:
        form = MatchingSettingsForm()
        try:
            decisions.update_settings(current_user, settings_data(form))
        except FieldErrors as exc:
            show_errors(form, FieldErrors({k.replace(".", "_"): v for k, v in exc.fields.items()}))
        else:
            flash("Matching settings saved", "success")
            return redirect(url_for("matching_web.settings"))
    return render_template("matching_web/settings.html", form=form, rows=rows, title="Matching settings"), (
        400 if form.errors else 200
    )
