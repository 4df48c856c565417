"""Hand a request off to another authority from its page: pushed to a partner's inbox, or, for a partner that takes
files only, downloaded as the signed bundle file. Optionally all of the resident's open requests at once."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, url_for
from flask_login import current_user

from can_crm import unit_of_work
from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.coordinator.forms import HandoffForm
from can_crm.coordinator.requests import render_request
from can_crm.forms import show_errors
from can_crm.services.common import policy
from can_crm.services.common.errors import FieldErrors, TransitionRefused, ValidationError
from can_crm.services.federation import partners, sending


@bp.post("/requests/<reference>/handoff")
@roles(*STAFF)
def hand_off(reference: str) -> Any:
    form = HandoffForm()
    try:
        req = policy.require_request(current_user, reference)
        if not form.to.data:
            raise FieldErrors({"to": "Choose the authority to hand the request off to"})
        partner = partners.for_handoff(form.to.data, over_http=False)
        if partner.base_url is None:
            bundle = sending.export_file(current_user, reference, partner.gss_code, form.reason.data, form.notes.data)
            unit_of_work.commit()
            filename = f"handoff-{reference}-{partner.gss_code}.json"
            return Response(
                json.dumps(bundle, ensure_ascii=False, indent=2),
                mimetype="application/json",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        if form.all_open.data:
            made = sending.hand_off_resident(current_user, req.resident_id, partner.gss_code, form.reason.data)
        else:
            made = sending.hand_off(current_user, [reference], partner.gss_code, form.reason.data, form.notes.data)
    except TransitionRefused as exc:
        return render_request(reference, 409, transition_error=exc.message)
    except ValidationError as exc:
        show_errors(form, exc if isinstance(exc, FieldErrors) else FieldErrors({exc.field or "to": exc.message}))
        return render_request(reference, 400, "handoff", handoff_form=form, error_form=form)
    count = len(made)
    flash(
        f"Handed off to {partner.name}: {count} request{'s' if count != 1 else ''}. "
        "They will acknowledge it with their own reference",
        "success",
    )
    return redirect(url_for("coordinator.request_detail", reference=reference))
