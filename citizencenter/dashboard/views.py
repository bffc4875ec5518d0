from collections.abc import Iterator

from flask import Response, current_app
from flask.views import MethodView

from citizencenter import db, openapi, redis_pool
from citizencenter.api import Blueprint
from citizencenter.auth import require_scope
from citizencenter.dashboard import service
from citizencenter.dashboard.schemas import LiveSnapshotSchema
from citizencenter.dashboard.slots import Slot, StreamSlots
from citizencenter.reports.service import report_settings

blp = Blueprint("dashboard", __name__, url_prefix="/api/v1/dashboard",
                description="Live wallboard figures")


def store():
    return redis_pool.client(current_app.config["REDIS_URL"])


@blp.route("/live")
class Live(MethodView):
    @require_scope("reports:read")
    @blp.response(200, LiveSnapshotSchema)
    def get(self):
        """Calls waiting, longest wait, guides by presence, today's service levels, e-mail
        backlog and breaches today"""
        return service.current_snapshot(db.session, store(),
                                        report_settings(current_app.config))


@blp.route("/stream")
class Stream(MethodView):
    @require_scope("reports:read")
    @blp.response(200, content_type="text/event-stream")
    @blp.doc(**openapi.answers("text/event-stream"))
    @blp.alt_response(503, description="Every stream slot is taken, or Redis is unreachable; "
                      "see Retry-After")
    def get(self):
        """Server-Sent Events: the snapshot on connect, then every change; heartbeat comments"""
        return stream_response()


def stream_response() -> Response:
    """The snapshot stream in one of this process's slots (the API's and the wallboard's)."""
    config = current_app.config
    slot = _stream_slots().take()
    try:
        events = service.stream(db.session, store(), report_settings(config),
                                heartbeat_s=config["DASHBOARD_HEARTBEAT_S"],
                                max_s=config["DASHBOARD_STREAM_MAX_S"])
    except BaseException:
        slot.release()
        raise
    response = Response(_holding(slot, events), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.call_on_close(slot.release)  # also when the client goes away mid-stream
    return response


def _stream_slots() -> StreamSlots:
    extensions = current_app.extensions
    if "dashboard_stream_slots" not in extensions:
        extensions.setdefault("dashboard_stream_slots",
                              StreamSlots(current_app.config["DASHBOARD_STREAM_SLOTS"]))
    return extensions["dashboard_stream_slots"]


def _holding(slot: Slot, events: Iterator[str]) -> Iterator[str]:
    try:
        yield from events
    finally:
        slot.release()
