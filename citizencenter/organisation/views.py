from flask.views import MethodView

from citizencenter import db
from citizencenter.accounts.models import Department
from citizencenter.api import Blueprint, paginator
from citizencenter.auth import require_scope
from citizencenter.organisation import service
from citizencenter.organisation.models import Category, Queue, ServicePoint
from citizencenter.organisation.schemas import (
    CategoryPageSchema,
    DepartmentPageSchema,
    QueuePageSchema,
    ServicePointPageSchema,
)
from citizencenter.pagination import PageArgsSchema

blp = Blueprint("organisation", __name__, url_prefix="/api/v1",
                description="Departments, queues, categories and service points")


def _listing(model, page_schema, summary: str):
    @require_scope("directory:read")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema)
    def get(self, args):
        return service.page_of(db.session, model, paginator(), **args)

    get.__doc__ = summary
    return type(model.__name__ + "List", (MethodView,), {"get": get})


for path, model, schema, summary in (
    ("/departments", Department, DepartmentPageSchema, "List departments (förvaltningar)"),
    ("/queues", Queue, QueuePageSchema, "List queues"),
    ("/categories", Category, CategoryPageSchema, "List case categories"),
    ("/service-points", ServicePoint, ServicePointPageSchema, "List walk-in service points"),
):
    blp.route(path)(_listing(model, schema, summary))
