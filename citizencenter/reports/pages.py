"""The service measurement (`/reports`, `/reports.csv`) and the figures per guide and per
queue (`/reports/guides`, `/reports/queues`, a guide's own row at `/me/figures`).

Every figure comes from the reports' service functions, the same the API answers with
(`service_measurement`, `charts`, `team`); this module only reads the GET form, picks the
period and draws the charts' SVG from the figures (`chart_layout`)."""

from datetime import date, datetime

from flask import Response, current_app, render_template, request

from citizencenter import db
from citizencenter.config import local_zone
from citizencenter.errors import InvalidInput
from citizencenter.reports import chart_layout, charts, periods, team
from citizencenter.reports.service import report_settings, service_measurement_csv
from citizencenter.reports.service_measurement import CHANNELS
from citizencenter.web import PageBlueprint, current_principal, current_user, login_required, texts
from citizencenter.web.pages import NAV, NAV_SCOPES

bp = PageBlueprint("reports_pages", __name__, template_folder="templates")
SCOPE = "reports:read"
for _endpoint, _key in (("reports_pages.report", "nav.reports"),
                        ("reports_pages.guides", "nav.report_guides"),
                        ("reports_pages.queues", "nav.report_queues")):
    NAV.append((_endpoint, _key))
    NAV_SCOPES[_endpoint] = SCOPE
NAV.append(("reports_pages.my_figures", "nav.my_figures"))

TEXT_FIELDS = ("channel", "queue", "department")


@bp.app_template_filter("report_value")
def _value(figure: dict, value=None) -> str:
    """A figure's value as the report reads it: 83,5 %, 42 s, 5,2 h, 78."""
    value = figure["value"] if value is None else value
    if value is None:
        return "–"
    unit = figure["unit"]
    if unit == "ratio":
        text = f"{100 * value:.1f} %"
    elif unit == "seconds":
        text = f"{value:.0f} s"
    elif unit == "hours":
        text = f"{value:.1f} h"
    elif unit in ("index", "percent", "score"):
        text = f"{value:.1f}" + (" %" if unit == "percent" else "")
    else:
        text = f"{value:g}"
    return text.replace(".", ",")


@bp.app_template_filter("report_figure_name")
def _figure_name(name: str) -> str:
    """The Swedish name of a figure; thresholds in its name become its words' numbers."""
    for prefix in ("service_level_", "answered_within_"):
        number = name.removeprefix(prefix).removesuffix("h")
        if name.startswith(prefix) and number.isdigit():
            return texts.t(f"reports.figure.{prefix}n", n=number)
    return texts.t(f"reports.figure.{name}")


@bp.app_template_filter("report_bin")
def _bin(b: dict) -> str:
    if b["to_hours"] is None:
        return f"≥ {b['from_hours']} h"
    return f"{b['from_hours']}–{b['to_hours']} h"


@bp.app_template_filter("report_time")
def _time(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


def _date(name: str, default: date | None) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(name, "Not a date.") from None


def _period() -> periods.Period:
    kind = request.args.get("period") or "month"
    today = datetime.now(local_zone()).date()
    return periods.report_period(kind, _date("date", today), _date("from", None),
                                 _date("to", None))


def _form() -> dict:
    args = request.args
    return {"period": args.get("period") or "month", "date": args.get("date", ""),
            "from": args.get("from", ""), "to": args.get("to", ""),
            **{name: args.get(name, "") for name in TEXT_FIELDS}}


def _filters() -> dict:
    filters = {name: (request.args.get(name) or "").strip() or None for name in TEXT_FIELDS}
    if filters["channel"] and filters["channel"] not in CHANNELS:
        raise InvalidInput("channel", "Unknown channel.")
    return filters


def _error_page(template: str, error: InvalidInput, **context):
    fields = [e["field"] for e in error.errors or []]
    return render_template(template, form=_form(), error_field=fields[0] if fields else None,
                           error=texts.t("reports.form_error"), **context), 422


def _measurement():
    current_principal().require(SCOPE)
    period, filters = _period(), _filters()
    figures = charts.measurement_page(db.session, period.start, period.end,
                                      report_settings(current_app.config),
                                      interval=period.interval, **filters)
    return period, filters, figures


@bp.route("/reports")
@login_required
def report():
    """The service measurement for a period with its charts and their tables."""
    try:
        period, filters, figures = _measurement()
    except InvalidInput as error:
        return _error_page("reports/report.html", error, choices=_choices())
    if request.args.get("format") == "csv":
        return _csv(figures["report"])
    return render_template("reports/report.html", form=_form(), period=period,
                           filters=filters, figures=figures, charts=_charts(figures),
                           choices=_choices(), channels=CHANNELS)


@bp.route("/reports.csv")
@login_required
def report_csv():
    """The same figures as CSV, the API's service-measurement CSV."""
    _, _, figures = _measurement()
    return _csv(figures["report"])


def _csv(report: dict) -> Response:
    return Response(service_measurement_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="servicematning.csv"'})


def _choices() -> dict:
    return charts.filter_choices(db.session)


def _charts(figures: dict) -> dict:
    report, settings = figures["report"], report_settings(current_app.config)
    t2 = f"service_level_{settings.definitions.threshold_t2_s}"
    within = f"answered_within_{settings.definitions.answer_within_hours}h"
    intervals = report.get("intervals", [])
    labels = [i["start"][:16].replace("T", " ") if report["interval"] == "hour"
              else i["start"][:10] for i in intervals]

    def series(channel: str, figure: str, scale: float = 100):
        values = [i[channel][figure]["value"] if channel in i else None for i in intervals]
        target = report[channel][figure]["target"] if channel in report else None
        return {"channel": channel, "figure": figure,
                "values": [None if v is None else v * scale for v in values],
                "raw": values, "n": [i[channel][figure]["n"] if channel in i else 0
                                     for i in intervals],
                "target": None if target is None else target * scale}
    level = [s for s in (series("phone", t2), series("email", within))
             if s["channel"] in report]
    courtesy = [series("overall", "courtesy_skr_index", 1)]
    distribution = figures["distribution"]
    heat = figures["calls_by_weekday_hour"]
    phone_target = report["phone"][t2]["target"] if "phone" in report else None
    return {
        "labels": labels,
        "level": chart_layout.line_chart(labels, level, 100, [0, 25, 50, 75, 100]),
        "level_series": level,
        "courtesy": chart_layout.line_chart(labels, courtesy, 100, [0, 25, 50, 75, 100]),
        "courtesy_series": courtesy,
        "calendar": chart_layout.histogram(distribution["calendar_hours"],
                                           [distribution["marks"]["calendar_hours"]]),
        "office": chart_layout.histogram(distribution["office_hours"],
                                         distribution["marks"]["office_hours"]),
        "heatmap": chart_layout.heatmap(heat["offered"], heat["answered"], phone_target),
        "t2": t2, "within": within,
    }


def _team(group_by: str, template: str, only_guide: int | None = None):
    try:
        period = _period()
        sort = request.args.get("sort") or "name"
        descending = request.args.get("order") == "desc"
        rows = team.team_figures(db.session, period.start, period.end,
                                 report_settings(current_app.config), group_by, sort=sort,
                                 descending=descending, only_guide=only_guide)
    except InvalidInput as error:
        return _error_page(template, error, group_by=group_by)
    if request.args.get("format") == "csv":
        return Response(team.team_csv(rows), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{group_by}.csv"'})
    return render_template(template, form=_form(), period=period, table=rows,
                           group_by=group_by, columns=team.COLUMNS, sortable=team.SORTABLE)


@bp.route("/reports/guides")
@login_required
def guides():
    """Handled cases, first-contact resolution, handling time and more per guide."""
    current_principal().require(SCOPE)
    return _team("guide", "reports/team.html")


@bp.route("/reports/queues")
@login_required
def queues():
    """The same figures per queue."""
    current_principal().require(SCOPE)
    return _team("queue", "reports/team.html")


@bp.route("/me/figures")
@login_required
def my_figures():
    """A guide's own row of the per-guide figures."""
    return _team("guide", "reports/team.html", only_guide=current_user().id)
