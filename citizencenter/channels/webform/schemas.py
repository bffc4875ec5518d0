import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.schemas import PhoneNumber
from citizencenter.pagination import page_schema


class InquirySchema(ma.Schema):
    # Surrounding white space is removed; blank counts as missing.
    category = checked.slug(required=True,
                            metadata={"description": "A slug from /webform/categories"})
    subject = checked.SingleLine(required=True, strip=True, validate=validate.Length(max=200))
    message = checked.Text(required=True, strip=True, validate=validate.Length(max=10_000))
    name = checked.SingleLine(strip=True, validate=validate.Length(max=200))
    email = checked.Email(metadata={"description": "Where the acknowledgement and the answer go"})
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
