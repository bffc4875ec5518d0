"""The browsable API docs at /api/v1/docs: Swagger UI served from this app, not a CDN."""

from flask import current_app, render_template, url_for

from citizencenter.web.blueprints import PageBlueprint

bp = PageBlueprint("api_docs", __name__, template_folder="templates")


@bp.route("/api/v1/docs")
def swagger_ui():
    """Swagger UI on the OpenAPI document (no sign-in: the document is public)."""
    return render_template("api_docs.html", title=current_app.config["API_TITLE"],
                           spec_url=url_for("api-docs.openapi_json"))
