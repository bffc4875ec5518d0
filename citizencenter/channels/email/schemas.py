import marshmallow as ma
from marshmallow import fields

from citizencenter.pagination import page_schema


class MimeIngestResultSchema(ma.Schema):
    status = fields.String(metadata={"description": "stored, duplicate or quarantined"})
    case_id = fields.UUID(allow_none=True)
    case_reference = fields.String(allow_none=True)
    message_id = fields.Integer(allow_none=True,
                                metadata={"description": "The message in the case's "
                                          "conversation"})
    new_case = fields.Boolean()
    threaded_by = fields.String(allow_none=True, metadata={
        "description": "message_id (our signed id), stored_message_id or subject"})
    acknowledgement = fields.String(allow_none=True, metadata={
        "description": "queued, follow-up, or why no receipt is sent (e.g. auto-submitted)"})
    quarantine_id = fields.Integer(allow_none=True)


class QuarantineRetryResultSchema(MimeIngestResultSchema):
    quarantine_reason = fields.String(allow_none=True, metadata={
        "description": "Why it is still in quarantine, when status is quarantined"})


class QuarantinedEmailSchema(ma.Schema):
    id = fields.Integer()
    mailbox = fields.String(allow_none=True)
    uidvalidity = fields.Integer(allow_none=True)
    uid = fields.Integer(allow_none=True)
    reason = fields.String(metadata={"description": "too-large, unparseable or "
                                     "processing-error"})
    detail = fields.String(allow_none=True)
    size = fields.Integer()
    sha256 = fields.String(allow_none=True)
    raw_kept = fields.Function(lambda q: q.raw is not None, metadata={"type": "boolean"})
    received_at = fields.AwareDateTime()
    error_type = fields.String(allow_none=True, metadata={
        "description": "The exception that stopped it (processing errors)"})
    error_message = fields.String(allow_none=True)
    traceback = fields.String(allow_none=True)
    retried_at = fields.AwareDateTime(allow_none=True)
    stored_at = fields.AwareDateTime(allow_none=True,
                                     metadata={"description": "When a retry stored it"})
    stored_case_id = fields.UUID(allow_none=True,
                                 metadata={"description": "The case a retry stored it on"})


class MailboxStateSchema(ma.Schema):
    name = fields.String()
    uidvalidity = fields.Integer(allow_none=True)
    last_uid = fields.Integer()
    last_polled_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


QuarantinePageSchema = page_schema(QuarantinedEmailSchema, "QuarantinedEmailPage")
