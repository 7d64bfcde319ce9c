"""Operator console: mail the outbox gave up on (or is still retrying), with a retry."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from reseller.core.db import unit_of_work
from reseller.core.web.session import operator_required
from whitelabel import outbox

bp = Blueprint("console_outbox", __name__, url_prefix="/console/outbox")


@bp.get("")
@operator_required
def index():
    return render_template("console/outbox.html", messages=outbox.problem_messages())


@bp.post("/<int:message_id>/retry")
@operator_required
def retry(message_id: int):
    with unit_of_work():
        message = outbox.retry_message(message_id=message_id)
    if message is None:
        flash(_("No such message."), "error")
    else:
        flash(_("The message is queued again."))
    return redirect(url_for("console_outbox.index"))
