"""Users and API tokens (/admin/users, admins) and the one-time password link
(/reset-password/<token>). Each form calls the service its API endpoint calls
(accounts.service and accounts.resets: /api/v1/users, /api/v1/tokens)."""

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from citizencenter import db
from citizencenter.accounts import resets, service
from citizencenter.accounts.models import Department, Role, User
from citizencenter.errors import AppError, InvalidInput, NotFound
from citizencenter.web import PageBlueprint, current_principal, login_required
from citizencenter.web.pages import ADMIN_SECTIONS
from citizencenter.web.paging import current_paging

bp = PageBlueprint("accounts_pages", __name__, template_folder="templates")
ADMIN_SECTIONS.append(("accounts_pages.users", "admin.section.users", "users:write"))
# --- users and tokens (admins) ---------------------------------------------------------

_USER_ERRORS = (("exists", "email", "users.error.email_taken"),
                ("Unknown department", "department", "users.error.department"),
                ("need a department", "department", "users.error.department_needed"),
                ("yourself", "active", "users.error.self"),
                ("Unknown scopes", "scopes", "users.error.scopes"),
                ("deactivated", "reset", "users.error.inactive"),
                ("last active admin", "form", "users.error.last_admin"),
                ("Unknown role", "role", "users.error.role"))


def _field_error(exc: AppError) -> dict[str, str]:
    for fragment, field, key in _USER_ERRORS:
        if fragment in (exc.detail or ""):
            return {field: key}
    return {"form": "users.error.invalid"}


def _user_filters() -> dict:
    """The list's filters as the form sends them ("" = any); unknown values mean any."""
    args = request.args
    role = args.get("role", "")
    return {"q": args.get("q", "").strip()[:service.MAX_USER_SEARCH],
            "role": role if role in {r.value for r in Role} else "",
            "department": args.get("department", ""),
            "active": args.get("active", "") if args.get("active") in ("true", "false") else ""}


def _users_page(status: int = 200, **extra):
    principal = current_principal()
    principal.require("users:write")
    departments = db.session.execute(select(Department.slug, Department.name)
                                     .order_by(Department.name)).all()
    filters = _user_filters()
    if filters["department"] not in {slug for slug, _ in departments}:
        filters["department"] = ""
    paging = current_paging()
    page = service.list_users(
        db.session, current_app.extensions["paginator"], q=filters["q"] or None,
        role=Role(filters["role"]) if filters["role"] else None,
        department=filters["department"] or None,
        active={"true": True, "false": False}.get(filters["active"]),
        cursor=paging["cursor"])
    context = {"page": page, "filters": filters, "paging": paging,
               "tokens": service.list_tokens(db.session), "departments": departments,
               "roles": list(Role), "scopes": sorted(service.INTEGRATION_SCOPES),
               "notice": None, "errors": {}, "typed": {}, "created_token": None,
               "me": principal.user_id, **extra}
    return render_template("accounts/users.html", **context), status


@bp.get("/admin/users")
@login_required
def users():
    """Users with role, department and state; API tokens."""
    notice = request.args.get("notice")
    return _users_page(notice=f"users.notice.{notice}" if notice in _NOTICES else None)[0]


_NOTICES = {"created", "changed", "enabled", "disabled", "reset_sent", "revoked"}


@bp.post("/admin/users")
@login_required
def create_user():
    """Create a user with a role (and department); they choose a password by a reset link."""
    current_principal().require("users:write")
    form = {k: request.form.get(k, "").strip() for k in ("email", "name", "role", "department")}
    errors = {k: "users.error.required" for k in ("email", "name") if not form[k]}
    if form["email"] and "@" not in form["email"]:
        errors["email"] = "users.error.email"
    if not errors:
        try:
            service.create_user(db.session, form["email"], form["name"], form["role"],
                                form["department"] or None, actor=current_principal().actor)
        except AppError as exc:
            db.session.rollback()
            errors = _field_error(exc)
        else:
            return redirect(url_for("accounts_pages.users", notice="created"))
    return _users_page(422, errors=errors, typed=form)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


@bp.get("/admin/users/<int:user_id>")
@login_required
def edit_user(user_id: int):
    """A user's role and department, to change."""
    current_principal().require("users:write")
    return _edit_page(_user_or_404(user_id))


def _edit_page(user: User, status: int = 200, errors: dict | None = None,
               typed: dict | None = None):
    departments = db.session.execute(select(Department.slug, Department.name)
                                     .order_by(Department.name)).all()
    typed = typed or {"role": user.role.value,
                      "department": user.department.slug if user.department else ""}
    return render_template("accounts/user_edit.html", user=user, roles=list(Role),
                           departments=departments, errors=errors or {}, typed=typed), status


@bp.post("/admin/users/<int:user_id>")
@login_required
def change_user(user_id: int):
    """Change a user's role and department: a user who can no longer take work is signed
    off routing, and the last active administrator stays one."""
    current_principal().require("users:write")
    form = {k: request.form.get(k, "").strip() for k in ("role", "department")}
    try:
        service.update_user(db.session, current_principal(), user_id,
                            {"role": form["role"], "department": form["department"] or None})
    except AppError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return _edit_page(_user_or_404(user_id), 422, _field_error(exc), form)
    return redirect(url_for("accounts_pages.users", notice="changed"))


@bp.post("/admin/users/<int:user_id>/active")
@login_required
def set_active(user_id: int):
    """Disable or enable a user: a disabled user is signed out and their tokens stop."""
    current_principal().require("users:write")
    active = request.form.get("active") == "1"
    try:
        service.update_user(db.session, current_principal(), user_id, {"active": active})
    except AppError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return _users_page(422, errors=_field_error(exc))
    return redirect(url_for("accounts_pages.users", notice="enabled" if active else "disabled"))


@bp.post("/admin/users/<int:user_id>/password-reset")
@login_required
def password_reset(user_id: int):
    """E-mail the user a one-time link to choose a password."""
    current_principal().require("users:write")
    try:
        resets.request_reset(db.session, current_principal(), user_id, current_app.config)
    except AppError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return _users_page(422, errors=_field_error(exc))
    return redirect(url_for("accounts_pages.users", notice="reset_sent"))


@bp.post("/admin/tokens")
@login_required
def create_token():
    """Issue an API token; its secret is on this answer only."""
    current_principal().require("users:write")
    name = request.form.get("token_name", "").strip()
    scopes = request.form.getlist("scopes")
    errors = {} if name else {"token_name": "users.error.required"}
    if not scopes and not errors:
        errors = {"scopes": "users.error.no_scopes"}
    if not errors:
        try:
            token, secret = service.create_token(db.session, name, scopes=scopes,
                                                 actor=current_principal().actor)
        except AppError as exc:
            db.session.rollback()
            errors = _field_error(exc)
        else:
            return _users_page(201, created_token={"name": token.name, "secret": secret})
    return _users_page(422, errors=errors, typed={"token_name": name, "scopes": scopes})


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke an API token."""
    current_principal().require("users:write")
    service.revoke_token(db.session, current_principal(), token_id)
    return redirect(url_for("accounts_pages.users", notice="revoked"))


# --- the one-time link (no sign-in: the link is the proof) ------------------------------

@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with a one-time link from an e-mail."""
    try:
        if request.method == "GET":
            user = resets.check_link(db.session, token)
            return render_template("accounts/reset_password.html", email=user.email,
                                   errors={})
        password = request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            user = resets.check_link(db.session, token)
            return render_template("accounts/reset_password.html", email=user.email,
                                   errors={"password_again": "reset.error.mismatch"}), 422
        try:
            resets.use_link(db.session, token, password)
        except InvalidInput:
            db.session.rollback()
            user = resets.check_link(db.session, token)
            return render_template("accounts/reset_password.html", email=user.email,
                                   errors={"password": "reset.error.length"}), 422
    except resets.ResetLinkInvalid:
        db.session.rollback()
        return render_template("accounts/reset_invalid.html"), 410
    return render_template("accounts/reset_done.html")
