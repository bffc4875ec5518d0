"""citizencenter: the contact-centre backend of a municipal citizen service centre."""

import gc

from flask import Flask

from citizencenter import db, errors, keys, logs, outbox, web
from citizencenter.api import Api
from citizencenter.config import Config, use_timezone, validate
from citizencenter.contacts import service as contacts
from citizencenter.json_output import JSONProvider
from citizencenter.pagination import Paginator
from citizencenter.privacy import service as privacy
from citizencenter.proxies import TrustedProxies


def create_app(config: dict | type | None = None) -> Flask:
    """Build the web application from `Config`, overridden by `config`."""
    app = Flask(__name__, static_folder=None)
    app.json = JSONProvider(app)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    validate(app.config)
    if not app.config["TESTING"]:  # the tests keep pytest's capture of log lines
        logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    logs.init_app(app)  # the request id: on every line of a request, in its response
    use_timezone(app.config["TIMEZONE"])
    contacts.set_default_region(app.config["PHONE_DEFAULT_REGION"])
    privacy.use_keys(keys.secret_keys(app.config))

    # X-Forwarded-* believed from the configured proxies only.
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["TRUSTED_PROXIES"])

    app.extensions["engine"] = engine = app.config.get("ENGINE") or db.make_engine(
        app.config["DATABASE_URL"])
    db.session.configure(bind=engine)
    outbox.set_publisher(outbox.Publisher(app.config["REDIS_URL"]))
    app.extensions["paginator"] = Paginator(
        keys.serializer_keys(app.config, "cursors"), app.config["CURSOR_MAX_AGE_S"],
        app.config["PAGE_SIZE_DEFAULT"], app.config["PAGE_SIZE_MAX"])
    app.teardown_appcontext(lambda _exc: db.session.remove())
    db.init_app(app)

    api = Api(app)
    errors.init_app(app)
    from citizencenter.metrics import views as metrics_views
    metrics_views.init_app(app)  # every request counted by its route; GET /metrics
    from citizencenter import health
    from citizencenter.accounts import views as accounts_views
    from citizencenter.audit import views as audit_views
    from citizencenter.cases import views as cases_views
    from citizencenter.channels.email import views as email_views
    from citizencenter.channels.phone import views as phone_views
    from citizencenter.channels.social import views as social_views
    from citizencenter.channels.walkin import views as walkin_views
    from citizencenter.channels.webform import views as webform_views
    from citizencenter.contacts import views as contacts_views
    from citizencenter.dashboard import views as dashboard_views
    from citizencenter.feedback import views as feedback_views
    from citizencenter.organisation import views as organisation_views
    from citizencenter.privacy.retention import views as retention_views
    from citizencenter.reports import views as reports_views
    from citizencenter.routing import views as routing_views
    from citizencenter.sla import views as sla_views
    from citizencenter.sla.staffing import views as staffing_views
    from citizencenter.subject_access import views as subject_access_views

    for blueprint in (health.blp, cases_views.blp, organisation_views.blp, phone_views.blp,
                      reports_views.blp, *routing_views.blueprints,
                      sla_views.blp, staffing_views.blp, feedback_views.blp,
                      dashboard_views.blp, social_views.blp, webform_views.blp,
                      walkin_views.blp, email_views.blp, audit_views.blp,
                      retention_views.blp, subject_access_views.blp,
                      accounts_views.blp, contacts_views.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(feedback_views.pages)  # the citizen's HTML page, not the API
    from citizencenter.citizen_view import pages as citizen_pages
    from citizencenter.citizen_view import views as citizen_views
    app.register_blueprint(citizen_pages.bp)  # the citizen's own case, /mitt-arende/<token>
    api.register_blueprint(citizen_views.blp)  # staff revoke those links
    web.init_app(app)  # the staff pages: sign-in, layout, CSRF
    from citizencenter.workspace.pages import worklist as worklist_pages
    app.register_blueprint(worklist_pages.bp)  # "Mina ärenden", search, the live parts
    from citizencenter.workspace.pages import register as register_page
    app.register_blueprint(register_page.bp)  # register a call or visit, /register
    from citizencenter.workspace.pages import case as case_page
    app.register_blueprint(case_page.bp)  # the case page, /cases/<id>
    from citizencenter.answers import pages as answers_pages
    app.register_blueprint(answers_pages.bp)  # the case page's answer templates
    from citizencenter.dashboard import pages as wallboard_page
    app.register_blueprint(wallboard_page.bp)  # the supervisors' wallboard, /wallboard
    from citizencenter.sla import pages as sla_pages
    app.register_blueprint(sla_pages.bp)  # breaches and warnings, /sla; /admin/sla-policies
    from citizencenter.sla.calendars import pages as calendar_pages
    app.register_blueprint(calendar_pages.bp)  # business calendars, /admin/calendars
    from citizencenter.sla.staffing import pages as staffing_pages
    app.register_blueprint(staffing_pages.bp)  # guides needed against staffed, /staffing
    from citizencenter.reports import pages as report_pages
    app.register_blueprint(report_pages.bp)  # the service measurement, /reports, /me/figures
    from citizencenter.records import pages as records_pages
    from citizencenter.records import views as records_views
    api.register_blueprint(records_views.blp)  # allmän handling: a case's archival document
    app.register_blueprint(records_pages.bp)  # the same document from the case page
    from citizencenter.answers import views as answers_views
    api.register_blueprint(answers_views.blp)  # answer templates (svarsmallar)
    from citizencenter.knowledge import views as knowledge_views
    api.register_blueprint(knowledge_views.blp)  # the knowledge base and its search
    api.register_blueprint(knowledge_views.case_uses)  # what answered a case
    from citizencenter.knowledge import pages as knowledge_pages
    app.register_blueprint(knowledge_pages.bp)  # the knowledge panel of the guide's pages
    from citizencenter.knowledge import public_views as public_knowledge_views
    api.register_blueprint(public_knowledge_views.blp)  # public articles for the website
    from citizencenter.channels.open311 import views as open311_views
    app.register_blueprint(open311_views.bp)  # Open311 GeoReport v2, /open311/v2/
    from citizencenter.routing import pages as routing_pages
    app.register_blueprint(routing_pages.bp)  # routing rules and queues, /admin/routing-rules
    from citizencenter.accounts import pages as accounts_pages
    app.register_blueprint(accounts_pages.bp)  # users and tokens, the password link
    from citizencenter.workspace.pages import guides as guides_admin
    app.register_blueprint(guides_admin.bp)  # guides' skills and capacity, /admin/guides
    from citizencenter.integrations import pages as integration_pages
    from citizencenter.integrations import views as integration_views
    api.register_blueprint(integration_views.blp)  # integrations: scopes, secrets, deliveries
    app.register_blueprint(integration_pages.bp)  # integrations for admins, /admin/integrations
    from citizencenter.devmail import pages as dev_mail_pages
    app.register_blueprint(dev_mail_pages.bp)  # /dev/mail: the embedded run's sent mail
    connect_domains()
    return app


def create_served_app() -> Flask:
    """`create_app` for a process that serves requests (gunicorn, `wsgi.py`)."""
    app = create_app()
    settle_after_start()
    return app


def settle_after_start() -> None:
    """Move what the process loaded at start (modules, app, caches: some 230,000 objects)
    out of the garbage collector's reach. A full collection otherwise walks them all,
    130-160 ms in a busy process, each time enough new objects pile up (every twentieth
    report page render); afterwards it walks only what requests left, about 2 ms."""
    gc.collect()
    gc.freeze()


def connect_domains() -> None:
    """Let lower packages hear of what happens above them, without importing upward.

    Case event subscribers run in the order they subscribe, which is the order of their
    effects: SLA clocks, then routing, then the audit trail. Subscribing twice is once.
    """
    from citizencenter.cases import identity, trail
    from citizencenter.channels.phone import history as call_history
    from citizencenter.channels.social import deliveries as social_deliveries
    from citizencenter.routing import assignment
    from citizencenter.routing import service as routing_service
    from citizencenter.sla import service as sla_service

    sla_service.subscribe_case_events()
    routing_service.subscribe_case_events()
    assignment.subscribe_account_changes()
    trail.subscribe_case_events()
    call_history.provide_call_history()
    social_deliveries.provide_deliveries()
    identity.mask_on_flush()
