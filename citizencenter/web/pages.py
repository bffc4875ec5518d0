"""The base pages: sign in and out, and the guide's presence (the header's "Status")."""

from flask import current_app, redirect, render_template, request, url_for

from citizencenter import db
from citizencenter.accounts import passwords
from citizencenter.accounts.lockout import LockedOut, SignInUnavailable
from citizencenter.errors import InvalidInput
from citizencenter.routing import presence as presence_service
from citizencenter.routing.models import Presence
from citizencenter.web import texts
from citizencenter.web.blueprints import PageBlueprint
from citizencenter.web.signin import (
    current_principal,
    current_user,
    end_session,
    login_required,
    safe_next,
    start_session,
)

bp = PageBlueprint("web", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static")


@bp.app_context_processor
def _layout():
    """What base.html needs on every page: the user, their presence and the navigation."""
    user = current_user()
    presence = None
    if presence_service.takes_work(user):
        presence = presence_service.presence_of(db.session, user.id)
    return {"current_user": user, "presence": presence, "presences": list(Presence),
            "nav_items": [(endpoint, key) for endpoint, key in NAV
                          if endpoint in current_app.view_functions
                          and _may_use(user, NAV_SCOPES.get(endpoint))]}


def _may_use(user, scope: str | None) -> bool:
    """A menu entry whose page needs a scope shows only to those who have it."""
    return scope is None or (user is not None and current_principal().has_scope(scope))


# (endpoint, text key): the header navigation, shown when the endpoint exists. A page
# that should appear in the menu adds itself here ("Mina ärenden": workspace.pages.worklist).
NAV: list[tuple[str, str]] = []
# endpoint -> the scope its page needs: the entry is hidden from those without it.
NAV_SCOPES: dict[str, str] = {}
# The administration pages: (endpoint, text key, scope). A page that configures something
# appends itself; /admin lists those the signed-in user may use.
ADMIN_SECTIONS: list[tuple[str, str, str]] = []
ADMIN_SCOPE = "routing:write"  # supervisors and admins; a section may ask for more
NAV.append(("web.admin", "nav.admin"))
NAV_SCOPES["web.admin"] = ADMIN_SCOPE


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password; the same message for every kind of failure."""
    next_path = safe_next(request.args.get("next"))
    notice = texts.t("login.timed_out") if request.args.get("timeout") else None
    if request.method == "GET":
        return render_template("login.html", next=next_path, email="", notice=notice)
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")
    lockout = current_app.extensions["signin_lockout"]
    address = request.remote_addr or ""
    try:
        lockout.check(email, address)
        user = passwords.check_credentials(db.session, email, password)
    except passwords.SignInFailed:
        lockout.failed(email, address)
        return _login_refused("login.failed", next_path, email, 401)
    except LockedOut:
        return _login_refused("login.locked", next_path, email, 429)
    except SignInUnavailable:
        return _login_refused("login.unavailable", next_path, email, 503)
    lockout.succeeded(email)
    start_session(user)
    return redirect(next_path or url_for("workspace.home"))


def _login_refused(key: str, next_path, email: str, status: int):
    return render_template("login.html", next=next_path, email=email,
                           error=texts.t(key)), status


@bp.post("/logout")
def logout():
    """Sign out: the session ends here, not only in this browser."""
    end_session()
    return render_template("login.html", next=None, email="",
                           notice=texts.t("login.signed_out"))


@bp.get("/admin")
@login_required
def admin():
    """The administration index: the configuration pages this user may open."""
    current_principal().require(ADMIN_SCOPE)
    sections = [(endpoint, key) for endpoint, key, scope in ADMIN_SECTIONS
                if endpoint in current_app.view_functions and current_principal().has_scope(scope)]
    return render_template("admin.html", sections=sections)


@bp.post("/presence")
@login_required
def set_presence():
    """Set my routing presence from the header's "Status" control."""
    value = request.form.get("presence", "")
    if value not in set(Presence):
        raise InvalidInput("presence", "Unknown presence.")
    user = current_user()
    profile = presence_service.set_presence(db.session, current_principal(), user.id,
                                            Presence(value))
    if request.headers.get("HX-Request"):
        return render_template("macros/presence_form.html", presence=profile.presence,
                               presences=list(Presence), saved=True)
    return redirect(safe_next(request.form.get("next")) or url_for("workspace.home"))
