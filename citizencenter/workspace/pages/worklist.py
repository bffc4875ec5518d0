""""Mina ärenden" (`/`), "Nästa ärende", search (`/search`), the header's live waiting count
and the screen pop: each view one service call (workspace.service, routing) and a template.

Live parts: the workspace pages hold one Server-Sent Events stream (`/workspace/events`,
wrapping `live.workspace_events` for the signed-in user) that says when a call this guide
answered pops up or the waiting counts changed; the page then asks for the fragment it shows
(`/workspace/calls/<id>/pop`, `/workspace/waiting-count`, `/worklist/rows`), so what it shows
always goes through the reader's access rules. Behaviour: static/js/workspace.js.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, render_template, request

from citizencenter import db, redis_pool
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.errors import Forbidden, InvalidInput
from citizencenter.routing import assignment
from citizencenter.routing import presence as presence_service
from citizencenter.web import PageBlueprint, current_principal, current_user, login_required
from citizencenter.web.pages import NAV
from citizencenter.web.paging import current_paging
from citizencenter.workspace import live
from citizencenter.workspace import service as workspace

bp = PageBlueprint("workspace", __name__, template_folder="../templates")
NAV.insert(0, ("workspace.home", "nav.home"))  # "Mina ärenden" first in the menu

LOCAL_TIME = ZoneInfo("Europe/Stockholm")
# A stream notices a closed page at its next heartbeat, so a short one frees the server's
# thread soon; the browser reconnects when a stream ends.
EVENTS_HEARTBEAT_S = 2
EVENTS_MAX_S = 120


@bp.app_template_filter("workspace_time")
def _local_time(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.app_template_filter("workspace_age")
def _age(seconds: int) -> str:
    """An age as a guide reads it: 4 min, 2 h 5 min, 3 d 4 h."""
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _choice(name: str, enum):
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(name, "Unknown value.") from None


def _worklist(template: str, *, claim_empty: bool = False, header: bool = True):
    status, channel = _choice("status", CaseStatus), _choice("channel", Channel)
    paging = current_paging()
    page = workspace.worklist(db.session, current_principal(),
                              current_app.extensions["paginator"], status=status,
                              channel=channel, cursor=paging["cursor"])
    filters = {"status": status.value if status else "", "channel": channel.value if channel
               else ""}
    return render_template(template, page=page, filters=filters, paging=paging,
                           statuses=list(CaseStatus), channels=list(Channel),
                           can_claim=_can_claim(), claim_empty=claim_empty,
                           waiting=workspace.waiting_count(db.session, current_principal())
                           if header else None)


def _can_claim() -> bool:
    user = current_user()
    return presence_service.takes_work(user)


@bp.route("/")
@login_required
def home():
    """Mina ärenden: my open cases and my queues' waiting ones, the most urgent first."""
    return _worklist("workspace/worklist/worklist.html")


@bp.route("/worklist/rows")
@login_required
def rows():
    """The list alone, as the page asks for it again to stay up to date (no header: the
    count is asked for on its own)."""
    return _worklist("workspace/worklist/_rows.html", header=False)


@bp.post("/next-case")
@login_required
def next_case():
    """Nästa ärende: take the next waiting case I can handle (the routing claim), open it."""
    if not _can_claim():
        raise Forbidden("Only guides and supervisors take cases from the queues.")
    case = assignment.claim_next(db.session, current_principal())
    if case is not None:
        return redirect(f"/cases/{case.id}", 303)
    return _worklist("workspace/worklist/worklist.html", claim_empty=True)


@bp.route("/search")
@login_required
def search():
    """Cases by reference, name, phone number, e-mail address or subject words."""
    q = request.args.get("q", "")
    paging = current_paging()
    page, error = None, None
    if q.strip():
        try:
            page = workspace.search(db.session, current_principal(),
                                    current_app.extensions["paginator"], q,
                                    cursor=paging["cursor"])
        except InvalidInput:
            db.session.rollback()
            error = "search.too_long"
    return render_template("workspace/worklist/search.html", q=q, page=page, error=error,
                           paging=paging,
                           waiting=workspace.waiting_count(db.session, current_principal()))


@bp.route("/workspace/waiting-count")
@login_required
def waiting_count():
    """The header's count of waiting cases I could take."""
    return render_template("workspace/worklist/_waiting.html",
                           waiting=workspace.waiting_count(db.session, current_principal()))


@bp.route("/workspace/calls/<int:call_id>/pop")
@login_required
def screen_pop(call_id: int):
    """Who is calling: the number, the matching contact and their cases (an audited read)."""
    pop = workspace.screen_pop(db.session, current_principal(), call_id)
    return render_template("workspace/worklist/_screen_pop.html", pop=pop)


@bp.route("/workspace/events")
@login_required
def events():
    """Server-Sent Events for the signed-in user: `screen_pop` and `waiting` (ids and counts
    only); the page fetches what to show."""
    user_id = current_user().id

    def on_call() -> int | None:
        try:
            return live.current_call(db.session, user_id)
        finally:
            db.session.rollback()  # nothing to hold open while the stream lasts

    stream = live.workspace_events(redis_pool.client(current_app.config["REDIS_URL"]), user_id,
                                   heartbeat_s=EVENTS_HEARTBEAT_S, max_s=EVENTS_MAX_S,
                                   on_call=on_call)
    return Response(stream, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
