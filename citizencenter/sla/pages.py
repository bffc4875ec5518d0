"""Breaches and warnings (`/sla`): the cases whose open SLA timers breached or are about to,
with the ledger that explains each, filtered by channel, queue and state. One call of the
service the API's GET /api/v1/sla/at-risk makes (sla.queries.at_risk) and a template."""

from flask import render_template, request
from sqlalchemy import select

from citizencenter import db
from citizencenter.cases.enums import Channel
from citizencenter.errors import InvalidInput
from citizencenter.organisation.models import Queue
from citizencenter.sla import queries
from citizencenter.web import PageBlueprint, current_principal, login_required
from citizencenter.web.pages import NAV, NAV_SCOPES

bp = PageBlueprint("sla_pages", __name__, template_folder="templates")
NAV.append(("sla_pages.at_risk", "nav.sla"))
NAV_SCOPES["sla_pages.at_risk"] = "reports:read"
STATES = ("breached", "warning")


def _filters() -> dict:
    args = request.args
    filters = {"state": args.get("state") or None, "channel": args.get("channel") or None,
               "queue": args.get("queue") or None}
    if filters["state"] not in (None, *STATES):
        raise InvalidInput("state", "Unknown value.")
    if filters["channel"] not in (None, *(c.value for c in Channel)):
        raise InvalidInput("channel", "Unknown value.")
    return filters


@bp.route("/sla")
@login_required
def at_risk():
    """Breached and warned cases with the ledger of each timer."""
    filters = _filters()
    result = queries.at_risk(db.session, current_principal(), **filters)
    queues = db.session.execute(select(Queue.slug, Queue.name).order_by(Queue.name)).all()
    return render_template("sla/at_risk.html", result=result, filters=filters, queues=queues,
                           channels=list(Channel), states=STATES)
