"""Administration of handoffs: partner authorities, the data-sharing log (and its CSV), and Open311 API keys."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, stream_with_context, url_for
from flask_login import current_user

from can_crm.access import roles
from can_crm.admin.forms import Open311KeyForm, PartnerForm
from can_crm.admin.routes import bp
from can_crm.forms import show_errors
from can_crm.models.base import utcnow
from can_crm.models.enums import Role
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.federation import keys, open311_keys, partners, sharing


def _partners_page(form: PartnerForm | None = None, status: int = 200) -> Any:
    return render_template(
        "admin/partners.html",
        partners=partners.list_partners(),
        key_id=keys.key_id,
        our_key=keys.current_public_key(),
        form=form or PartnerForm(formdata=None, lawful_basis="public_task"),
        title="Partner authorities",
    ), status


@bp.get("/partners")
@roles(Role.ADMIN)
def partner_list() -> Any:
    return _partners_page()


@bp.post("/partners")
@roles(Role.ADMIN)
def save_partner() -> Any:
    form = PartnerForm()
    try:
        partner, created = partners.save_partner({name: field.data for name, field in form._fields.items()})
    except ValidationError as exc:
        show_errors(form, exc if isinstance(exc, FieldErrors) else FieldErrors({exc.field or "gss_code": exc.message}))
        return _partners_page(form, 400)
    flash(f"{'Added' if created else 'Updated'} partner {partner.name} ({partner.gss_code})", "success")
    return redirect(url_for("admin.partner_list"))


@bp.get("/data-sharing-log")
@roles(Role.ADMIN)
def sharing_log() -> Any:
    return render_template(
        "admin/data_sharing_log.html",
        entries=sharing.entries(limit=200),
        refusals=sharing.refusals(limit=50),
        title="Data-sharing log",
    )


@bp.get("/data-sharing-log.csv")
@roles(Role.ADMIN)
def sharing_log_csv() -> Any:
    filename = f"data-sharing-log-{utcnow():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(sharing.csv_rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _keys_page(form: Open311KeyForm | None = None, plain: str | None = None, status: int = 200) -> Any:
    return render_template(
        "admin/open311_keys.html",
        keys=open311_keys.list_keys(),
        form=form or Open311KeyForm(formdata=None),
        plain_key=plain,
        title="Open311 API keys",
    ), status


@bp.get("/open311-keys")
@roles(Role.ADMIN)
def open311_key_list() -> Any:
    return _keys_page()


@bp.post("/open311-keys")
@roles(Role.ADMIN)
def issue_open311_key() -> Any:
    form = Open311KeyForm()
    try:
        _key, plain = open311_keys.issue(form.name.data, current_user.id)
    except ValidationError as exc:
        show_errors(form, FieldErrors({"name": exc.message}))
        return _keys_page(form, status=400)
    # Shown on this response only: the database keeps a hash and the prefix.
    return _keys_page(plain=plain)


@bp.post("/open311-keys/<int:key_id>/revoke")
@roles(Role.ADMIN)
def revoke_open311_key(key_id: int) -> Any:
    open311_keys.revoke(key_id)
    flash("Open311 key revoked", "success")
    return redirect(url_for("admin.open311_key_list"))
