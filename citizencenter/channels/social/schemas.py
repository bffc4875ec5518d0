import marshmallow as ma
from marshmallow import fields


class WebhookResultSchema(ma.Schema):
    accepted = fields.Integer(metadata={"description": "New messages filed on cases"})
    duplicates = fields.Integer(metadata={"description": "Messages (mid) received before"})
    echoes = fields.Integer(metadata={"description": "Copies of the page's own messages"})
    ignored = fields.Integer(metadata={"description": "Read receipts, deliveries and the like"})
