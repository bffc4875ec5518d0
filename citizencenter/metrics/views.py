"""GET /metrics for Prometheus: answered to the configured networks or the metrics token,
404 to anyone else, as if there were nothing here."""

import hmac
import ipaddress
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST

from citizencenter.metrics import exposition, instruments
from citizencenter.metrics.figures import LiveFigures
from citizencenter.proxies import parse_networks

bp = Blueprint("metrics", __name__)


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        # remote_addr is the client's own address: TrustedProxies set it from
        # X-Forwarded-For only when the peer is a trusted proxy.
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.extensions["metrics_networks"])


@bp.get("/metrics")
def metrics() -> Response:
    """The Prometheus text exposition."""
    if not _allowed():
        abort(404)
    return Response(exposition.render(current_app.extensions["metrics_live"]),
                    content_type=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else None
        instruments.observe_request(rule, request.method, response.status_code,
                                    time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Count every request by its URL rule and serve /metrics."""
    app.extensions["metrics_networks"] = parse_networks(app.config["METRICS_ALLOWED_NETWORKS"])
    app.extensions["metrics_live"] = LiveFigures(app.extensions["engine"], app.config["REDIS_URL"])
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
