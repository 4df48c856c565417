"""/f/<token>: GET shows the question with that request's summary only; POST takes answer, comment, rating.

A used, expired or altered link gets a kind page (status 200 for used, 410 for expired, 404 for unknown),
never an error page and never anything about the request.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovRadioInput, GovSubmitInput
from wtforms import RadioField, SubmitField, TextAreaField

from can_crm.access import public
from can_crm.extensions import db, limiter
from can_crm.forms import show_errors
from can_crm.models.enums import REQUEST_TYPE_LABELS, RequestType
from can_crm.models.request import HelpRequest
from can_crm.services.common.errors import FieldErrors, TransitionRefused
from can_crm.services.notifications import feedback, links

bp = Blueprint("feedback", __name__)


class FeedbackForm(FlaskForm):
    answer = RadioField(
        _l("Did your help arrive?"),
        choices=[("yes", _l("Yes")), ("no", _l("No")), ("partly", _l("Only partly"))],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    rating = RadioField(
        _l("How would you rate the help? (optional)"),
        description=_l("1 is very poor, 5 is very good"),
        choices=[(str(n), str(n)) for n in range(1, 6)],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    comment = TextAreaField(_l("Anything you want to tell us? (optional)"), widget=GovCharacterCount())
    submit = SubmitField(_l("Send answer"), widget=GovSubmitInput())


def _kind_page(state: str) -> Any:
    status = {"used": 200, "expired": 410}.get(state, 404)
    return render_template("feedback/link_state.html", state=state, title="Did your help arrive?"), status


@bp.route("/f/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def answer(token: str) -> Any:
    found = links.resolve(token)
    if found.state != "ok" or found.link is None:
        return _kind_page(found.state)
    request = db.session.get(HelpRequest, found.link.request_id)
    assert request is not None
    form = FeedbackForm()
    if form.is_submitted():
        try:
            given = feedback.answer_by_link(found.link, form.answer.data, form.comment.data, form.rating.data)
        except FieldErrors as exc:
            show_errors(form, exc)
        except TransitionRefused:
            return _kind_page("used")
        else:
            return render_template("feedback/thanks.html", answer=given.answer, title="Thank you")
    summary = REQUEST_TYPE_LABELS.get(RequestType(request.type), request.type)
    status = 400 if any(f.errors for f in form) else 200
    return render_template(
        "feedback/question.html", form=form, reference=request.reference, summary=summary, title="Did your help arrive?"
    ), status
