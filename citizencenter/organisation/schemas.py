import marshmallow as ma
from marshmallow import fields

from citizencenter.pagination import page_schema


def _department_slug():
    return fields.Function(lambda obj: obj.department.slug if obj.department else None,
                           metadata={"type": "string", "nullable": True})


class DepartmentSchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)


class QueueSchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
    department = _department_slug()


class CategorySchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
    department = _department_slug()
    public = fields.Boolean()


class ServicePointSchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
    address = fields.String(allow_none=True)


DepartmentPageSchema = page_schema(DepartmentSchema, "DepartmentPage")
QueuePageSchema = page_schema(QueueSchema, "QueuePage")
CategoryPageSchema = page_schema(CategorySchema, "CategoryPage")
ServicePointPageSchema = page_schema(ServicePointSchema, "ServicePointPage")
