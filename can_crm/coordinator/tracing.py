"""Track and Trace pages (coordinators with the tracing permission): cases, contacts, interactions, clusters,
the chain view, the map of cases by area, and the calls to make. Every page is audited by the services."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import tracers
from can_crm.coordinator.blueprint import bp
from can_crm.coordinator.tracing_forms import CaseForm, IdentityForm, InteractionForm, PeriodForm, StatusForm
from can_crm.forms import date_value, show_errors
from can_crm.services.common.errors import Conflict, FieldErrors
from can_crm.services.tracing import cases, clusters, interactions, isolation, notifier, pages
from can_crm.services.tracing.people import details, from_columns

LABELS = {
    "status": {"to_notify": "To notify", "notified": "Notified", "isolating": "Isolating", "released": "Released"},
    "setting": interactions.SETTING_LABELS,
    "kind": interactions.KIND_LABELS,
    "template": notifier.TEMPLATE_LABELS,
}


@bp.get("/tracing/")
@tracers
def tracing_home() -> Any:
    return _render_home(CaseForm(formdata=None))


def _render_home(form: CaseForm, status: int = 200) -> Any:
    rows = pages.case_rows(current_user.id)
    return render_template(
        "coordinator/tracing/home.html", rows=rows, form=form, labels=LABELS, title="Track and Trace"
    ), status


@bp.post("/tracing/cases")
@tracers
def tracing_new_case() -> Any:
    form = CaseForm()
    try:
        case = cases.create_case(form.values(), current_user.id)
    except FieldErrors as exc:
        renamed = {("person_id" if k in ("resident_id", "volunteer_id", "") else k): v for k, v in exc.fields.items()}
        show_errors(form, FieldErrors(renamed))
        return _render_home(form, 400)
    flash("Case recorded: check the contacts below", "success")
    return redirect(url_for("coordinator.tracing_case", case_id=case.id))


def _degree() -> int:
    return 1 if request.args.get("degree") == "1" else 2


@bp.get("/tracing/cases/<int:case_id>")
@tracers
def tracing_case(case_id: int) -> Any:
    return _render_case(case_id)


def _render_case(
    case_id: int, status: int = 200, failed: int | None = None, failed_form: Any = None, **extra: Any
) -> Any:
    page = pages.case_page(case_id, _degree(), current_user.id)
    return render_template(
        "coordinator/tracing/case.html",
        page=page,
        labels=LABELS,
        status_form=StatusForm(formdata=None),
        identity_form=extra.get("identity_form") or IdentityForm(formdata=None),
        failed=failed,
        failed_form=failed_form,
        form=failed_form or extra.get("identity_form"),
        title=f"Case {page.case.id}",
    ), status


@bp.post("/tracing/contacts/<int:contact_id>/status")
@tracers
def tracing_contact_status(contact_id: int) -> Any:
    form = StatusForm()
    contact = cases.get_contact(contact_id)
    case_id = contact.case_id
    try:
        changed = isolation.set_status(contact, form.values(resident=contact.resident_id is not None), current_user.id)
    except FieldErrors as exc:
        show_errors(form, exc)
        return _render_case(case_id, 400, contact_id, form)
    message = "Status saved"
    if changed:
        message += ": " + ", ".join(r.reference for r in changed)
    flash(message, "success")
    return redirect(url_for("coordinator.tracing_case", case_id=case_id, _anchor=f"contact-{contact_id}"))


@bp.post("/tracing/people/<kind>/<int:person_id>/test-and-trace-id")
@tracers
def tracing_identity(kind: str, person_id: int) -> Any:
    form = IdentityForm()
    case_id = request.args.get("case", type=int)
    try:
        person = cases.clean_person_ref(kind, person_id)
        cases.set_test_and_trace_id(person, form.test_and_trace_id.data, current_user.id)
    except FieldErrors as exc:
        show_errors(form, exc)
        if case_id:
            return _render_case(case_id, 400, identity_form=form)
        return _render_home(CaseForm(formdata=None), 400)
    flash("NHS Test and Trace id saved", "success")
    if case_id:
        return redirect(url_for("coordinator.tracing_case", case_id=case_id))
    return redirect(url_for("coordinator.tracing_home"))


@bp.route("/tracing/interactions/new", methods=["GET", "POST"])
@tracers
def tracing_new_interaction() -> Any:
    form = InteractionForm()
    if form.is_submitted():
        try:
            made = interactions.record_meeting(form.values(), form.others.data, current_user.id)
        except FieldErrors as exc:
            renamed = {k.replace("person_a", "a_id").replace("person_b", "b_id"): v for k, v in exc.fields.items()}
            show_errors(form, FieldErrors({k.split(".")[0]: v for k, v in renamed.items()}))
        else:
            flash(f"{len(made)} interaction{'s' if len(made) != 1 else ''} recorded", "success")
            return redirect(url_for("coordinator.tracing_home"))
    return render_template(
        "coordinator/tracing/interaction.html", form=form, title="Record an interaction"
    ), 400 if form.errors else 200


def _period(form: PeriodForm) -> tuple[Any, Any] | None:
    try:
        return pages.clean_period({"date_from": date_value(form.date_from), "date_to": date_value(form.date_to)})
    except FieldErrors as exc:
        show_errors(form, exc)
        return None


@bp.get("/tracing/clusters")
@tracers
def tracing_clusters() -> Any:
    form = PeriodForm(request.args)
    period = _period(form)
    found = clusters.clusters(*period, current_user.id) if period else []
    people = details(from_columns(c.resident_id, c.volunteer_id) for cl in found for c in cl.cases)
    return render_template(
        "coordinator/tracing/clusters.html",
        form=form,
        clusters=found,
        period=period,
        people=people,
        labels=LABELS,
        person_of=cases.person_of,
        title="Clusters",
    ), 400 if form.errors else 200


@bp.get("/tracing/cases/<int:case_id>/chain")
@tracers
def tracing_chain(case_id: int) -> Any:
    form = PeriodForm(request.args)
    start, end = _period(form) or pages.clean_period({})
    chain = clusters.chain_of(case_id, start, end, current_user.id)
    people = details(cases.person_of(c) for c in chain.cases)
    return render_template(
        "coordinator/tracing/chain.html",
        chain=chain,
        case_id=case_id,
        period=(start, end),
        people=people,
        labels=LABELS,
        person_of=cases.person_of,
        form=form,
        title=f"Chain of case {case_id}",
    ), 400 if form.errors else 200


@bp.get("/tracing/map")
@tracers
def tracing_map() -> Any:
    form = PeriodForm(request.args)
    period = _period(form)
    areas, k, unplaced = clusters.cases_by_area(*period, current_user.id) if period else ([], 0, 0)
    return render_template(
        "coordinator/tracing/map.html",
        form=form,
        areas=areas,
        k=k,
        unplaced=unplaced,
        period=period,
        title="Cases by area",
    ), 400 if form.errors else 200


@bp.get("/tracing/calls")
@tracers
def tracing_calls() -> Any:
    calls = notifier.calls_to_make()
    people = details(from_columns(m.resident_id, m.volunteer_id) for m in calls)
    return render_template(
        "coordinator/tracing/calls.html",
        calls=calls,
        people=people,
        person=lambda m: from_columns(m.resident_id, m.volunteer_id),
        labels=LABELS,
        title="Calls to make",
    )


@bp.post("/tracing/calls/<int:message_id>/done")
@tracers
def tracing_call_done(message_id: int) -> Any:
    try:
        notifier.mark_called(message_id, current_user.id)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("coordinator.tracing_calls"))
    flash("Call recorded", "success")
    return redirect(url_for("coordinator.tracing_calls"))
