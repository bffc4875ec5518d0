import marshmallow as ma
import redis
from flask import current_app
from flask.views import MethodView
from sqlalchemy import text

from citizencenter import db, redis_pool
from citizencenter.api import Blueprint

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Liveness")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok, degraded (Redis down) or down"})
    database = ma.fields.String()
    redis = ma.fields.String()


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return "ok"
    except Exception:
        db.session.rollback()
        return "unavailable"


def _check_redis() -> str:
    try:
        redis_pool.probe(current_app.config["REDIS_URL"]).ping()
        return "ok"
    except redis.RedisError:
        return "unavailable"


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database is unavailable")
    @blp.doc(security=[])
    def get(self):
        """State of the database and Redis; no token needed"""
        database, broker = _check_database(), _check_redis()
        status = "down" if database != "ok" else "ok" if broker == "ok" else "degraded"
        return {"status": status, "database": database, "redis": broker}, \
            200 if database == "ok" else 503
