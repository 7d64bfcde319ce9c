"""Sandbox-only views: the dev outbox, where the embedded default's sent mail is kept."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from reseller.core.extensions import db
from whitelabel.models import OutboxMessage

dev = Blueprint("dev", __name__, url_prefix="/_dev")


def _messages(limit: int = 200) -> list[OutboxMessage]:
    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    to = request.args.get("to")
    if to:
        stmt = stmt.where(OutboxMessage.recipient == to)
    return list(db.session.scalars(stmt))


@dev.before_request
def _sandbox_only():
    if not current_app.config["SANDBOX"]:
        abort(404, description="The /_dev/ pages exist only in sandbox mode "
                               "(TUNNUS_ENV=sandbox); this is production.")


def _wants_html() -> bool:
    """HTML for a browser, JSON for tools. A browser lists text/html among other types
    (Chromium: ``text/html,…,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7``), so the
    better of the two we offer is chosen by quality (RFC 9110 §12.5.1); a tie (``*/*``) or
    no Accept header keeps JSON, the listing's original contract; ``?json`` forces it."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and "json" not in request.args


@dev.get("/outbox")
def outbox():
    messages = _messages()
    if _wants_html():
        return render_template("dev/outbox.html", messages=messages)
    return jsonify({"messages": [
        {"id": m.id, "to": m.recipient, "from": m.sender, "subject": m.subject,
         "language": m.language, "text": m.text, "html": m.html, "reseller": m.reseller_id,
         "template": m.template, "state": m.state, "created_at": m.created_at.isoformat()}
        for m in messages
    ]})


@dev.get("/outbox/<int:message_id>.html")
def outbox_html(message_id: int):
    """The HTML part of one kept message, as the recipient's mail program would show it."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or not message.html:
        abort(404)
    return Response(message.html, mimetype="text/html")
