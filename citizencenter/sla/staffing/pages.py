"""Staffing (`/staffing`): the guides needed per weekday and hour for a chosen service level
beside the guides actually staffed, as server-drawn SVG charts with a table each.
One call of the service GET /api/v1/staffing/coverage makes (staffing.coverage.coverage);
the chart's geometry is drawn here, its figures are the service's."""

from flask import current_app, render_template, request
from marshmallow import ValidationError

from citizencenter import db
from citizencenter.sla.enums import WEEKDAYS
from citizencenter.sla.staffing import coverage
from citizencenter.sla.staffing.schemas import CoverageArgsSchema
from citizencenter.web import PageBlueprint, current_principal, login_required
from citizencenter.web.pages import NAV, NAV_SCOPES

bp = PageBlueprint("staffing_pages", __name__, template_folder="templates")
NAV.append(("staffing_pages.staffing", "nav.staffing"))
NAV_SCOPES["staffing_pages.staffing"] = "reports:read"
FIELDS = ("weeks", "aht_s", "target_percent", "answer_within_s")
DEFAULTS = {"weeks": "4", "aht_s": "300", "target_percent": "80", "answer_within_s": "120"}
# Chart geometry (SVG user units).
SLOT_W, PLOT_H, LEFT, TOP, BOTTOM = 26, 160, 34, 14, 30


def _form() -> tuple[dict, dict, dict]:
    """What the form shows, the service's arguments, and errors by field."""
    shown = {name: request.args.get(name, DEFAULTS[name]).strip() for name in FIELDS}
    raw = {"weeks": shown["weeks"], "aht_s": shown["aht_s"],
           "answer_within_s": shown["answer_within_s"]}
    errors = {}
    try:
        raw["target_service_level"] = float(shown["target_percent"].replace(",", ".")) / 100
    except ValueError:
        errors["target_percent"] = "staffing.error.target_percent"
    try:
        args = CoverageArgsSchema().load(raw)
    except ValidationError as error:
        for name in error.messages:
            field = "target_percent" if name == "target_service_level" else name
            errors[field] = f"staffing.error.{field}"
        args = None
    return shown, args, errors


def _chart(weekday: str, hours: list[dict]) -> dict:
    """Bars for the guides needed, a mark per hour for those staffed, ▲ where too few."""
    top = max([h["guides_needed"] or 0 for h in hours]
              + [h["guides_available"] for h in hours] + [1])
    scale = PLOT_H / (top + 1)
    first = min(7, *(h["hour"] for h in hours))  # office hours at least, so days compare
    span = range(first, max(18, *(h["hour"] for h in hours)) + 1)

    def x(hour):
        return LEFT + (hour - first) * SLOT_W

    def y(value):
        return TOP + PLOT_H - value * scale

    marks = []
    for h in hours:
        needed = h["guides_needed"]
        bar_h = (needed if needed is not None else top + 1) * scale
        marks.append({**h, "x": x(h["hour"]) + 3, "bar_y": round(TOP + PLOT_H - bar_h, 1),
                      "bar_h": round(bar_h, 1), "bar_w": SLOT_W - 6,
                      "line_y": round(y(h["guides_available"]), 1),
                      "cx": x(h["hour"]) + SLOT_W / 2})
    ticks = [{"value": v, "y": round(y(v), 1)}
             for v in range(0, int(top) + 2, max(1, int(top + 1) // 4))]
    return {"weekday": weekday, "marks": marks, "ticks": ticks,
            "hours": [{"hour": hour, "x": x(hour) + SLOT_W / 2} for hour in span],
            "width": LEFT + len(span) * SLOT_W + 8, "height": TOP + PLOT_H + BOTTOM,
            "plot_bottom": TOP + PLOT_H, "left": LEFT,
            "understaffed": sum(1 for h in hours if h["understaffed"])}


@bp.route("/staffing")
@login_required
def staffing():
    """The chosen service level's guides per hour against the guides staffed."""
    current_principal().require("reports:read")
    shown, args, errors = _form()
    result, charts = None, []
    if args is not None and not errors:
        result = coverage.coverage(db.session, timezone=current_app.config["TIMEZONE"], **args)
        by_day = {day: [h for h in result["hours"] if h["weekday"] == day] for day in WEEKDAYS}
        charts = [_chart(day, hours) for day, hours in by_day.items() if hours]
    return render_template("staffing/staffing.html", shown=shown, errors=errors,
                           result=result, charts=charts), 400 if errors else 200
