from flask import current_app
from flask.views import MethodView

from citizencenter import db
from citizencenter.accounts import resets, service
from citizencenter.accounts.schemas import (
    PasswordResetSchema,
    ProtectedAccessSchema,
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenPageSchema,
    TokenSchema,
    UserCreateSchema,
    UserPageSchema,
    UserQueryArgsSchema,
    UserSchema,
    UserUpdateSchema,
)
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.pagination import Page

blp = Blueprint("users", __name__, url_prefix="/api/v1",
                description="Users, password resets and API tokens (admins)")


@blp.route("/users")
class Users(MethodView):
    @require_scope("users:write")
    @blp.arguments(UserQueryArgsSchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args):
        """Users by name with role, department and whether active, a page at a time"""
        return service.list_users(db.session, current_app.extensions["paginator"], **args)

    @require_scope("users:write")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user with a role (and a department for department staff)"""
        return service.create_user(db.session, data["email"], data["name"], data["role"],
                                   data["department"], actor=current_principal().actor)


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @require_scope("users:write")
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, changes, user_id):
        """Change a user's role, department or active flag (inactive: signed out)"""
        return service.update_user(db.session, current_principal(), user_id, changes)


@blp.route("/users/<int:user_id>/password-reset")
class PasswordReset(MethodView):
    @require_scope("users:write")
    @blp.response(202, PasswordResetSchema)
    def post(self, user_id):
        """E-mail the user a one-time link to choose a new password"""
        return resets.request_reset(db.session, current_principal(), user_id,
                                    current_app.config)


@blp.route("/tokens")
class Tokens(MethodView):
    @require_scope("users:write")
    @blp.response(200, TokenPageSchema)
    def get(self):
        """Every API token: name, scopes, created, revoked (never a secret)"""
        return Page(service.list_tokens(db.session))

    @require_scope("users:write")
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, data):
        """Issue a token; its secret is in this answer only"""
        token, secret = service.create_token(
            db.session, data["name"], role=data["role"], scopes=data["scopes"],
            user_email=data["user_email"], actor=current_principal().actor)
        return {**{name: getattr(token, name) for name in TokenSchema().fields},
                "secret": secret}


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @require_scope("users:write")
    @blp.response(204)
    def delete(self, token_id):
        """Revoke a token"""
        service.revoke_token(db.session, current_principal(), token_id)


@blp.route("/users/<int:user_id>/protected-access")
class ProtectedAccess(MethodView):
    @require_scope("users:write")
    @blp.response(200, ProtectedAccessSchema)
    def put(self, user_id):
        """Grant a user the protected permission: the cases of protected contacts"""
        return service.set_protected_access(db.session, current_principal().actor, user_id,
                                            True)

    @require_scope("users:write")
    @blp.response(200, ProtectedAccessSchema)
    def delete(self, user_id):
        """Withdraw a user's protected permission"""
        return service.set_protected_access(db.session, current_principal().actor, user_id,
                                            False)
