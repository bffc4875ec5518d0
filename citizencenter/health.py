import marshmallow as ma
import redis
from flask import current_app
from flask.views import MethodView
from sqlalchemy import text

from citizencenter import db
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


# One client per URL: a new one per probe costs a connection and redis-py's package
# metadata lookup, over half of the probe's time. A probe must not hang on a Redis that
# stopped answering, hence timeouts of its own; a dropped connection is made again at the
# next probe. Named, so that Redis's CLIENT LIST tells it from the app's other connections.
_probes: dict[str, redis.Redis] = {}


def _check_redis() -> str:
    url = current_app.config["REDIS_URL"]
    try:
        client = _probes.get(url)
        if client is None:
            client = _probes[url] = redis.Redis.from_url(
                url, socket_connect_timeout=0.5, socket_timeout=0.5,
                client_name="citizencenter-health")
        client.ping()
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
