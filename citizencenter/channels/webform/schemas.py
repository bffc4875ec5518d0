import marshmallow as ma
from marshmallow import fields, validate

from citizencenter.cases.schemas import PhoneNumber
from citizencenter.pagination import page_schema


class Text(fields.String):
    """Text with surrounding white space removed; blank counts as missing."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ma.ValidationError("Must not be blank.")
        return text


class InquirySchema(ma.Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "A slug from /webform/categories"})
    subject = Text(required=True, validate=validate.Length(max=200))
    message = Text(required=True, validate=validate.Length(max=10_000))
    name = Text(validate=validate.Length(max=200))
    email = fields.Email(validate=validate.Length(max=254), metadata={
        "description": "Where the acknowledgement and the answer go"})
    phone = PhoneNumber(validate=validate.Length(max=40))
    website = fields.String(load_default="", validate=validate.Length(max=500), metadata={
        "description": "Leave empty. The form hides this field from people; robots fill it."})


class InquiryReceiptSchema(ma.Schema):
    status = fields.String(metadata={"description": "Always 'received'"})
    reference = fields.String(metadata={"description": "The case reference, MC-YYYY-NNNNNN"})


class PublicCategorySchema(ma.Schema):
    slug = fields.String()
    name = fields.String()


PublicCategoryPageSchema = page_schema(PublicCategorySchema, "PublicCategoryPage")
