"""The supervisors' wallboard (`/wallboard`, and `/wallboard?tv=1` full screen without the
navigation): the dashboard service's live snapshot, the same the API gives.

The page holds one Server-Sent Events stream (`/wallboard/stream`, the dashboard service's
stream behind the session sign-in and the same stream slots as the API's) and on each
snapshot asks for the figures again (`/wallboard/figures`), rendered here from the stored
snapshot. Behaviour: static/js/wallboard.js (reconnects, counts the longest wait up).
"""

from datetime import datetime

from flask import current_app, render_template, request

from citizencenter import db
from citizencenter.config import local_zone
from citizencenter.dashboard import service
from citizencenter.dashboard.views import store, stream_response
from citizencenter.db import utcnow
from citizencenter.reports.service import report_settings
from citizencenter.web import PageBlueprint, current_principal, login_required
from citizencenter.web.pages import NAV, NAV_SCOPES

bp = PageBlueprint("dashboard_pages", __name__, template_folder="templates")
NAV.append(("dashboard_pages.wallboard", "nav.wallboard"))
NAV_SCOPES["dashboard_pages.wallboard"] = "reports:read"
SCOPE = "reports:read"


def _levels(snapshot: dict) -> list[dict]:
    """Today's service levels beside their targets (the reports' targets and their rule)."""
    settings = report_settings(current_app.config)
    definitions, targets = settings.definitions, settings.targets
    # (channel, figure, unit, text key and its values); the thresholds are configured.
    shown = [*(("phone", f"service_level_{seconds}", "ratio", "phone.service_level",
                {"seconds": seconds})
               for seconds in (definitions.threshold_t1_s, definitions.threshold_t2_s)),
             ("phone", "direct_answer_rate", "ratio", "phone.direct_answer_rate", {}),
             ("email", "answered_within_24h", "ratio", "email.answered_within_24h", {}),
             ("email", "mean_response_office_hours", "hours",
              "email.mean_response_office_hours", {})]
    rows = []
    for channel, name, unit, key, values in shown:
        value = snapshot.get("today", {}).get(channel, {}).get(name)
        target = targets.target(channel, name)
        rows.append({"channel": channel, "name": name, "unit": unit, "value": value,
                     "label": (key, values), "target": target,
                     "comparison": targets.comparison(name),
                     "met": targets.met(name, value, target)})
    return rows


def _board() -> dict:
    current_principal().require(SCOPE)
    snapshot = service.current_snapshot(db.session, store(),
                                        report_settings(current_app.config))
    return {"live": snapshot, "levels": _levels(snapshot), "now": utcnow().isoformat()}


@bp.app_template_filter("wallboard_clock")
def _clock(moment: str) -> str:
    """The local time of day of an ISO moment, 14:05:09."""
    return datetime.fromisoformat(moment).astimezone(local_zone()).strftime("%H:%M:%S")


@bp.app_template_filter("wallboard_value")
def _value(value, unit: str) -> str:
    """A figure as the board shows it: 83 %, 45 s, 5,2 h; – without data."""
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{round(value * 100)} %"
    if unit == "hours":
        return f"{value:.1f} h".replace(".", ",")
    return f"{round(value)} s"


@bp.app_template_filter("wallboard_wait")
def _wait(seconds) -> str:
    """A waiting time as m:ss (h:mm:ss past an hour); – without one."""
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@bp.route("/wallboard")
@login_required
def wallboard():
    """Calls waiting, the longest wait, guides, today's levels, backlog, breaches."""
    tv = request.args.get("tv") == "1"
    return render_template("dashboard/tv.html" if tv else "dashboard/wallboard.html",
                           tv=tv, **_board())


@bp.route("/wallboard/figures")
@login_required
def figures():
    """The figures alone, as the page asks for them on each change."""
    return render_template("dashboard/_figures.html", **_board())


@bp.route("/wallboard/stream")
@login_required
def stream():
    """The dashboard's Server-Sent Events for a signed-in supervisor (same slots as the API)."""
    current_principal().require(SCOPE)
    return stream_response()
