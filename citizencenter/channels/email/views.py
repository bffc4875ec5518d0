import io

from flask import current_app, request, send_file
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint, paginator
from citizencenter.auth import current_principal, require_scope
from citizencenter.channels.email import service
from citizencenter.channels.email.schemas import (
    MailboxStateSchema,
    MimeIngestResultSchema,
    QuarantinedEmailSchema,
    QuarantinePageSchema,
    QuarantineRetryResultSchema,
)
from citizencenter.errors import NotFound, UnsupportedMediaType
from citizencenter.pagination import PageArgsSchema

blp = Blueprint("email", __name__, url_prefix="/api/v1",
                description="E-mail: raw MIME ingestion, attachments, quarantine, mailboxes")
STATUS = {"stored": 201, "duplicate": 200, "quarantined": 202}


@blp.route("/integrations/email/mime")
class MimeMessages(MethodView):
    @require_scope("mail:ingest")
    @blp.doc(requestBody={"required": True, "content": {"message/rfc822": {
        "schema": {"type": "string", "format": "binary"}}}})
    @blp.response(201, MimeIngestResultSchema)
    @blp.alt_response(200, schema=MimeIngestResultSchema, description="Already received")
    @blp.alt_response(202, schema=MimeIngestResultSchema,
                      description="Could not be stored on a case; kept in quarantine")
    def post(self):
        """Receive one raw RFC 5322 message (message/rfc822)"""
        request.max_content_length = current_app.config["EMAIL_MAX_MESSAGE_BYTES"]
        if request.mimetype != "message/rfc822":
            raise UnsupportedMediaType("Send the raw message as message/rfc822.")
        outcome = service.receive(db.session, request.get_data(), current_app.config)
        return outcome, STATUS[outcome.status]


@blp.route("/email/attachments/<int:attachment_id>")
class AttachmentContent(MethodView):
    @require_scope("cases:read")
    @blp.response(200, {"format": "binary", "type": "string"},
                  content_type="application/octet-stream")
    def get(self, attachment_id: int):
        """Download a kept attachment of an e-mail (served as its checked type)"""
        attachment = service.get_attachment(db.session, current_principal(), attachment_id)
        response = send_file(io.BytesIO(attachment.content), mimetype=attachment.detected_type,
                             as_attachment=True,
                             download_name=attachment.filename or f"bilaga-{attachment.id}")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@blp.route("/email/quarantine")
class Quarantine(MethodView):
    @require_scope("mail:admin")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, QuarantinePageSchema)
    def get(self, args):
        """Mail that could not be stored on a case, newest first"""
        return service.list_quarantined(db.session, paginator(), **args)


@blp.route("/email/quarantine/<int:quarantine_id>")
class QuarantinedById(MethodView):
    @require_scope("mail:admin")
    @blp.response(200, QuarantinedEmailSchema)
    def get(self, quarantine_id: int):
        """One quarantined message's record"""
        return service.get_quarantined(db.session, quarantine_id)


@blp.route("/email/quarantine/<int:quarantine_id>/retry")
class QuarantinedRetry(MethodView):
    @require_scope("mail:admin")
    @blp.response(200, QuarantineRetryResultSchema)
    def post(self, quarantine_id: int):
        """Process a quarantined message again: stored, already stored, or still quarantined"""
        return service.retry_quarantined(db.session, current_principal(), quarantine_id,
                                         current_app.config)


@blp.route("/email/quarantine/<int:quarantine_id>/raw")
class QuarantinedRaw(MethodView):
    @require_scope("mail:admin")
    @blp.response(200, {"format": "binary", "type": "string"}, content_type="message/rfc822")
    def get(self, quarantine_id: int):
        """The quarantined message as received (404 when too large to keep)"""
        row = service.get_quarantined(db.session, quarantine_id)
        if row.raw is None:
            raise NotFound("The message was too large to keep; it is still in its mailbox.")
        return send_file(io.BytesIO(service.kept_raw(row)), mimetype="message/rfc822",
                         as_attachment=True,
                         download_name=f"quarantine-{row.id}.eml")


@blp.route("/email/mailboxes")
class Mailboxes(MethodView):
    @require_scope("mail:admin")
    @blp.response(200, MailboxStateSchema(many=True))
    def get(self):
        """Polled mailboxes: UIDVALIDITY, last UID read, last poll and error"""
        return service.mailbox_states(db.session)
