"""Outreach pages: upload the shielded list (a background job with a progress bar), campaigns, call lists."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, StringField, SubmitField

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.forms import show_errors
from can_crm.models.enums import CONTACT_OUTCOME_LABELS, REQUEST_TYPE_LABELS
from can_crm.services.common import policy
from can_crm.services.common.errors import FieldErrors, NotFound
from can_crm.services.outreach import campaigns, shielded

CHANNELS = [
    ("sms", "Text message"),
    ("email", "Email"),
    ("letter", "Letter"),
    ("auto_call", "Automated call"),
    ("phone", "Call list for coordinators"),
]


class ImportForm(FlaskForm):
    file = FileField("Shielded residents list (CSV, UTF-8)", widget=GovFileInput())
    mapping = FileField("Column mapping (optional, JSON)", widget=GovFileInput())
    dry_run = BooleanField("Check the file only: import nothing", widget=GovCheckboxInput())
    submit = SubmitField("Upload and import", widget=GovSubmitInput())


class CampaignForm(FlaskForm):
    name = StringField("Campaign name", widget=GovTextInput())
    channel = RadioField("How to contact people", choices=CHANNELS, validate_choice=False, widget=GovRadioInput())
    ward_code = StringField("Only one ward (optional, ward code)", widget=GovTextInput())
    submit = SubmitField("Start campaign", widget=GovSubmitInput())


def _render(status: int = 200, **forms: Any) -> Any:
    return render_template(
        "coordinator/outreach.html",
        import_form=forms.get("import_form") or ImportForm(formdata=None),
        campaign_form=forms.get("campaign_form") or CampaignForm(formdata=None),
        imports=shielded.recent_imports(),
        campaigns=[(c, campaigns.funnel(c.id)) for c in campaigns.list_campaigns()],
        overall=campaigns.funnel(),
        title="Outreach",
    ), status


@bp.get("/outreach")
@roles(*STAFF)
def outreach() -> Any:
    return _render()


@bp.post("/outreach/import")
@roles(*STAFF)
def outreach_import() -> Any:
    form = ImportForm()
    upload = request.files.get("file")
    content = upload.read() if upload else b""
    mapping: Any = None
    errors: dict[str, str] = {}
    if not upload or not upload.filename:
        errors["file"] = "Choose the CSV file to import"
    mapping_file = request.files.get("mapping")
    if mapping_file and mapping_file.filename:
        try:
            mapping = json.loads(mapping_file.read(65536).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            errors["mapping"] = "The mapping must be a JSON file"
    if errors:
        show_errors(form, FieldErrors(errors))
        return _render(400, import_form=form)
    record = shielded.start_import(
        content, (upload.filename if upload else None) or "", mapping, bool(form.dry_run.data), current_user.id
    )
    return redirect(url_for("progress.show", job_id=record.job_id))


@bp.get("/outreach/imports/<int:import_id>/errors.csv")
@roles(*STAFF)
def outreach_import_errors(import_id: int) -> Any:
    record = shielded.get_import(import_id)
    if not record.error_csv:
        raise NotFound("This import had no row errors")
    return Response(
        record.error_csv,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{record.id}-errors.csv"'},
    )


@bp.post("/outreach/campaigns")
@roles(*STAFF)
def campaign_new() -> Any:
    form = CampaignForm()
    try:
        campaign = campaigns.create_campaign(request.form, current_user.id)
        count = campaigns.launch(campaign)
    except FieldErrors as exc:
        show_errors(form, exc)
        return _render(400, campaign_form=form)
    flash(f"Campaign started for {count} residents", "success")
    return redirect(url_for("coordinator.campaign_detail", campaign_id=campaign.id))


# The fields of each call's outcome form, in page order; each has the id `<name>-<contact id>` on the page.
OUTCOME_FIELDS = ("outcome", "type", "note")


def _render_campaign(campaign_id: int, status: int = 200, refused: dict[str, Any] | None = None) -> Any:
    """The campaign's funnel and call list. `refused`: a call's outcome the service refused (its contact id, the
    messages by field and what was posted), shown again in that person's form, which is put first on the list
    when they are no longer on it (reached since the page was loaded)."""
    campaign = campaigns.get_campaign(campaign_id)
    calls = campaigns.call_list(campaign)
    if refused is not None and all(contact.id != refused["contact_id"] for contact, _ in calls):
        calls = [campaigns.call_entry(refused["contact_id"]), *calls]
    return render_template(
        "coordinator/campaign.html",
        campaign=campaign,
        funnel=campaigns.funnel(campaign.id),
        calls=calls,
        outcomes={k.value: v for k, v in CONTACT_OUTCOME_LABELS.items()},
        outcome_items=[{"value": k.value, "text": v} for k, v in CONTACT_OUTCOME_LABELS.items()],
        type_items=[
            {"value": "", "text": "Choose"},
            *({"value": k.value, "text": v} for k, v in REQUEST_TYPE_LABELS.items()),
        ],
        refused=refused,
        page_error=refused is not None,
        title=campaign.name,
    ), status


@bp.get("/outreach/campaigns/<int:campaign_id>")
@roles(*STAFF)
def campaign_detail(campaign_id: int) -> Any:
    return _render_campaign(campaign_id)


@bp.post("/outreach/contacts/<int:contact_id>/outcome")
@roles(*STAFF)
def campaign_outcome(contact_id: int) -> Any:
    try:
        contact = campaigns.record_outcome(contact_id, request.form, policy.actor_for(current_user))
    except FieldErrors as exc:
        # A message for a field the form lacks goes by the outcome, the form's first field.
        errors: dict[str, str] = {}
        for name, message in exc.fields.items():
            key = name if name in OUTCOME_FIELDS else "outcome"
            errors[key] = f"{errors[key]}. {message}" if key in errors else message
        refused = {
            "contact_id": contact_id,
            "errors": {name: errors[name] for name in OUTCOME_FIELDS if name in errors},
            "values": {name: request.form.get(name, "") for name in OUTCOME_FIELDS},
        }
        return _render_campaign(campaigns.campaign_of(contact_id), 400, refused)
    flash("Call recorded" + (": request raised" if contact.request_id else ""), "success")
    return redirect(url_for("coordinator.campaign_detail", campaign_id=contact.campaign_id))
