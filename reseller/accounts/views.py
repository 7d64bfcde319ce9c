"""Client-area pages (blueprint ``client``): sign-in (with TOTP or a recovery code),
password links, dashboard, account closure, users and credentials (the account's details
and personal settings: ``account_pages``). Views parse, call one service, render.
The shell they sit in (session loading, guards) is ``reseller.core.web.session``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from reseller.accounts import closure, security, services
from reseller.accounts.errors import InvalidCredentials, InvalidToken, InvalidTotp
from reseller.accounts.schemas import ChangeUserIn, InviteUserIn
from reseller.accounts.sessions import sign_in, sign_out
from reseller.accounts.throttling import PASSWORD_RESET, SIGN_IN, TOTP, Attempt, current_guard
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, TooManyAttempts, translate_messages
from reseller.core.formatting import format_datetime_local
from reseller.core.permissions import SCOPES, Permission, Role, scopes_for_role
from reseller.core.web.dashboard import panels_for
from reseller.core.web.forms import field_errors, form_problem
from reseller.core.web.ratelimit import api_usage
from reseller.core.web.responses import secret_response
from reseller.core.web.session import login_required, permission_required, user_can

bp = Blueprint("client", __name__)

T = TypeVar("T")
_FORM_CHALLENGE = {"WWW-Authenticate": 'Form realm="client-area"'}


@bp.app_context_processor
def _template_globals():
    return {"current_user": g.get("user"), "can": user_can, "Permission": Permission,
            "get_locale": get_locale,
            "languages": (("fi", "Suomi"), ("sv", "Svenska"), ("en", "English"))}


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


def _address() -> str:
    return request.remote_addr or "unknown"


def _guarded(attempt: Attempt, action: Callable[[], T]) -> T:
    """Run ``action`` (a credential check) unless ``attempt`` is locked; count a refusal,
    forget the credential's failures on success. Raises the refusal or TooManyAttempts."""
    guard = current_guard()
    guard.check(attempt)
    try:
        with unit_of_work():
            result = action()
    except (InvalidCredentials, InvalidTotp, InvalidToken):
        with unit_of_work():
            guard.failed(attempt)
        raise
    with unit_of_work():
        guard.succeeded(attempt)
    return result


def _too_many(template: str, refused: TooManyAttempts, **context: Any):
    minutes = max(1, -(-(refused.retry_after or 60) // 60))
    error = _("Too many failed attempts. Try again in %(minutes)d min.", minutes=minutes)
    return render_template(template, error=error, **context), 429, refused.headers()


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        attempt = Attempt(SIGN_IN, email.strip().lower(), _address())
        try:
            user = _guarded(attempt, lambda: services.authenticate(email=email,
                                                                  password=password))
        except TooManyAttempts as refused:
            return _too_many("client/login.html", refused)
        except DomainError as refused:
            error = str(refused.title)
        else:
            if user.totp_enabled:
                session.clear()
                session["pending_uid"] = user.id
                if user.language:  # the second step speaks the user's language already
                    session["lang"] = user.language
                session["next"] = _safe_next(request.args.get("next"))
                return redirect(url_for("client.login_totp"))
            sign_in(user)
            return redirect(_safe_next(request.args.get("next")) or _home(user))
    if error:
        # RFC 9110 §15.5.2: a 401 names how to authenticate (here: this form).
        return render_template("client/login.html", error=error), 401, _FORM_CHALLENGE
    return render_template("client/login.html", error=error)


def _home(user) -> str:
    return url_for("console.index") if user.is_operator else url_for("client.dashboard")


@bp.route("/login/2fa", methods=["GET", "POST"])
def login_totp():
    uid = session.get("pending_uid")
    if uid is None:
        return redirect(url_for("client.login"))
    error = None
    if request.method == "POST":
        user = services.db.session.get(services.User, uid)
        code = request.form.get("code", "")
        # A recovery code stands in for the app's code: same throttle, used once.
        check = (security.use_recovery_code if security.looks_like_recovery_code(code)
                 else services.verify_totp)
        try:
            remaining = _guarded(Attempt(TOTP, str(uid), _address()),
                                 lambda: check(user=user, code=code))
        except TooManyAttempts as refused:
            return _too_many("client/login_totp.html", refused)
        except DomainError as refused:
            error = str(refused.title)
        else:
            target = session.get("next")
            # Worded before sign_in() clears the session (and the language it holds).
            notice = None if remaining is None else ngettext(
                "You signed in with a recovery code. %(num)d code remains: create new ones "
                "in Settings if you are running low.",
                "You signed in with a recovery code. %(num)d codes remain: create new ones "
                "in Settings if you are running low.", remaining)
            sign_in(user)
            if notice:
                flash(notice, "error" if remaining < 3 else "message")
            return redirect(target or _home(user))
    return render_template("client/login_totp.html", error=error)


@bp.post("/logout")
def logout():
    sign_out()
    flash(_("You have signed out."))
    return redirect(url_for("client.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    if request.method == "POST":
        email = request.form.get("email", "")
        attempt = Attempt(PASSWORD_RESET, email.strip().lower(), _address())
        guard = current_guard()
        try:
            guard.check(attempt)
        except TooManyAttempts as refused:
            return _too_many("client/forgot.html", refused)
        with unit_of_work():
            guard.failed(attempt)  # every request mails someone: each one counts
        with unit_of_work():
            user = services.find_user_by_email(email)
            if user is not None and user.active:
                services.send_password_reset(user)
        # Same answer whether or not the address exists: no account enumeration.
        flash(_("If the address has an account, a reset link is on its way."))
        return redirect(url_for("client.login"))
    return render_template("client/forgot.html")


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token: str):
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if len(password) < security.MIN_PASSWORD:
            error = _("Use at least %(n)d characters.", n=security.MIN_PASSWORD)
        elif password != request.form.get("confirm", ""):
            error = _("The passwords do not match.")
        else:
            try:
                user = _guarded(Attempt(PASSWORD_RESET, None, _address()),
                                lambda: services.reset_password(
                                    token=token, password=password,
                                    secret_key=current_app.config["SECRET_KEY"]))
            except TooManyAttempts as refused:
                return _too_many("client/set_password.html", refused)
            except DomainError as refused:
                error = str(refused.title)
            else:
                sign_in(user)
                flash(_("Your password is set."))
                return redirect(_home(user))
    return render_template("client/set_password.html", error=error), 400 if error else 200


@bp.post("/language")
def set_language():
    language = request.form.get("language")
    if language in ("fi", "sv", "en"):
        session["lang"] = language
        if g.user is not None:
            with unit_of_work():
                services.update_profile(user=g.user, language=language)
    return redirect(_safe_next(request.form.get("next")) or url_for("client.dashboard"))


@bp.get("/")
@login_required
def dashboard():
    rid = g.user.reseller_id
    panels = panels_for(current_app, rid, user_can)
    usage = api_usage(rid) if user_can(Permission.VIEW_ACCOUNT) else None
    return render_template("client/dashboard.html", reseller=g.user.reseller, panels=panels,
                           usage=usage)


@bp.post("/account/closure")
@permission_required(Permission.CLOSE_ACCOUNT)
def account_closure():
    reason = request.form.get("reason", "")
    if request.form.get("action") == "close" and not request.form.get("confirmed") \
            and len(reason.strip()) >= 3:
        closes = closure.end_of_paid_period(clock.now())
        return render_template(
            "client/confirm.html", heading=_("Close the account"), happens=[
                _("The account stays usable until %(date)s, the end of the paid month. Then "
                  "users can no longer sign in and API credentials stop working.",
                  date=format_datetime_local(closes)),
                _("Unused prepaid funds are refunded when the account closes."),
                _("Personal data is deleted 14 days after the account closes; until then "
                  "you can reopen it.")],
            hidden={"action": "close", "reason": reason},
            submit=_("Close the account on %(date)s", date=format_datetime_local(closes)),
            action=url_for("client.account_closure"), cancel=url_for("client.account"))
    try:
        with unit_of_work():
            if request.form.get("action") == "reopen":
                closure.reopen(reseller_id=g.user.reseller_id, actor_role=g.user.role)
                flash(_("The account is open again."))
            else:
                closure.request_closure(reseller_id=g.user.reseller_id, actor_role=g.user.role,
                                        actor_user_id=g.user.id,
                                        reason=request.form.get("reason", ""))
                flash(_("The account will close at the end of the paid period."))
    except DomainError as refused:
        flash(_describe(refused), "error")
    return redirect(url_for("client.account"))


@bp.route("/users", methods=["GET", "POST"])
@permission_required(Permission.VIEW_ACCOUNT)
def users():
    error, errors = None, {}
    if request.method == "POST":
        try:
            with unit_of_work():
                _users_action()
        except DomainError as refused:
            if request.form.get("action") == "invite":  # the invitation's fields, by each
                errors, error = field_errors(refused, known={"email", "name", "role"})
                error = error or form_problem()
            else:
                error = _describe(refused)
        else:
            return redirect(url_for("client.users"))
    return render_template("client/users.html", error=error, errors=errors,
                           form=request.form if errors else {}, roles=list(Role),
                           users=services.list_users(reseller_id=g.user.reseller_id)), \
        422 if error else 200


def _users_action() -> None:
    action = request.form.get("action")
    rid, role = g.user.reseller_id, g.user.role
    if action == "invite":
        data = InviteUserIn().load_or_raise({k: request.form.get(k, "") for k in
                                             ("email", "name", "role")})
        user = services.invite_user(reseller_id=rid, actor_role=role, **data)
        services.send_invitation(user)
        flash(_("Invitation sent to %(email)s.", email=user.email))
    elif action == "role":
        data = ChangeUserIn().load_or_raise({"role": request.form.get("role", "")})
        services.change_role(reseller_id=rid, actor_role=role,
                             user_id=_int(request.form.get("user_id")), **data)
        flash(_("Role changed."))
    elif action == "remove":
        services.remove_user(reseller_id=rid, actor_role=role,
                             user_id=_int(request.form.get("user_id")))
        flash(_("User removed."))


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


def _describe(error: DomainError) -> str:
    errors = getattr(error, "errors", None)
    if errors:
        messages = translate_messages(errors)
        return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in messages.items())
    return str(error.detail or error.title)


@bp.route("/credentials", methods=["GET", "POST"])
@permission_required(Permission.VIEW_ACCOUNT)
@secret_response  # shows a new client secret or token once
def credentials():
    error = None
    created = None
    if request.method == "POST" and request.form.get("action") in REVOKES \
            and not request.form.get("confirmed"):
        return _confirm_revoke()
    if request.method == "POST":
        try:
            with unit_of_work():
                created = _credentials_action()
        except DomainError as refused:
            error = _describe(refused)
    rid = g.user.reseller_id
    return render_template(
        "client/credentials.html", error=error, created=created,
        clients=services.list_oauth_clients(reseller_id=rid),
        tokens=services.list_personal_tokens(reseller_id=rid),
        scopes=sorted(scopes_for_role(g.user.role)), all_scopes=sorted(SCOPES),
    ), 422 if error else 200


REVOKES = ("revoke_client", "revoke_token")


def _confirm_revoke():
    """What revoking a credential stops, asked before it happens."""
    rid, action, wanted = g.user.reseller_id, request.form.get("action"), _int(
        request.form.get("id"))
    found = services.list_oauth_clients(reseller_id=rid) if action == "revoke_client" \
        else services.list_personal_tokens(reseller_id=rid)
    item = next((c for c in found if c.id == wanted and not c.revoked_at), None)
    if item is None:
        flash(_("No such credential, or it is already revoked."), "error")
        return redirect(url_for("client.credentials"))
    happens = [_("Programs using “%(name)s” get “401 Unauthorized” from the next request on.",
                 name=item.name),
               _("It cannot be restored: make a new credential and put it where this one "
                 "was used.")]
    if action == "revoke_client":
        happens.insert(1, _("The tokens it has been given stop working too."))
    return render_template(
        "client/confirm.html", heading=_("Revoke “%(name)s”", name=item.name),
        happens=happens, hidden={"action": action, "id": item.id},
        submit=_("Revoke “%(name)s”", name=item.name),
        action=url_for("client.credentials"), cancel=url_for("client.credentials"))


def _credentials_action() -> dict | None:
    action = request.form.get("action")
    rid = g.user.reseller_id
    name = request.form.get("name", "").strip()[:100] or _("Unnamed")
    scopes = request.form.getlist("scopes")
    if action == "create_client":
        client, secret = services.create_oauth_client(reseller_id=rid, actor=g.user, name=name,
                                                      scopes=scopes)
        return {"kind": "client", "client_id": client.client_id, "secret": secret}
    if action == "create_token":
        token, raw = services.create_personal_token(reseller_id=rid, actor=g.user, name=name,
                                                    scopes=scopes)
        return {"kind": "token", "token": raw}
    if action == "revoke_client":
        services.revoke_oauth_client(reseller_id=rid, actor_role=g.user.role,
                                     client_id=_int(request.form.get("id")))
    elif action == "revoke_token":
        services.revoke_personal_token(reseller_id=rid, actor_user_id=g.user.id,
                                       actor_role=g.user.role,
                                       token_id=_int(request.form.get("id")))
    flash(_("The credential is revoked: it no longer works."))
    return None
