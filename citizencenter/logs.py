"""Log lines: one JSON object per line (LOG_FORMAT=json) or plain text, each with the
request id, task and case of the work at hand, and never a citizen's personal data.

`configure` installs one handler on the root logger for the web app, the Celery worker
and beat, and the command line. The masking filter on it is the last line of defence: the
code logs ids and counts, never names, addresses or bodies, but an exception's text or a
library's line may quote what a citizen wrote, so identity numbers, e-mail addresses and
phone numbers are masked in every line whatever logged it.
"""

import contextlib
import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime

import phonenumbers
from flask import Flask, g, request
from gunicorn import glogging

from citizencenter import log_context
from citizencenter.privacy import detection

FORMATS = ("text", "json")
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
EMAIL_MASK = "[e-mail]"
PHONE_MASK = "[phone]"
# A password reset link's token (accounts/resets.py) must never reach a log line.
RESET_LINK = re.compile(r"(/reset-password/)[^\s/?\"']+")
# Seven digits or more, however grouped: only then is a phone number worth looking for.
_MANY_DIGITS = re.compile(r"\d(?:[\s().+/-]{0,2}\d){6}")
# The signed token of a citizen's link (/mitt-arende/, /feedback/) is a key to their case.
CITIZEN_LINK = re.compile(r"(/(?:mitt-arende|feedback)/)[^\s/?\"']+")


def mask_personal_data(text: str, region: str = "SE") -> str:
    """`text` with identity numbers, e-mail addresses and phone numbers masked."""
    if not text:
        return text
    text, _ = detection.mask(text)
    text = EMAIL.sub(EMAIL_MASK, text)
    text = RESET_LINK.sub(r"\1[token]", text)
    text = CITIZEN_LINK.sub(r"\1[token]", text)
    if _MANY_DIGITS.search(text):
        found = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID)]
        for start, end in reversed(found):
            text = text[:start] + PHONE_MASK + text[end:]
    return text


class PersonalDataFilter(logging.Filter):
    """Mask personal data in a record's message, arguments and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_personal_data_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string still gets its line
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = mask_personal_data(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        record.exc_info = None  # from here on the masked text stands for it
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        record._personal_data_masked = True
        return True


class ContextFilter(logging.Filter):
    """Put the request id, task and case of the work at hand on the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_context.current().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message and the
    context fields that are known."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in log_context.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        line["process"] = record.process
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A plain line for a terminal: time, level, logger, [context] message."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(context)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        known = [f"{name}={getattr(record, name)}" for name in log_context.FIELDS
                 if getattr(record, name, None) is not None]
        record.context = f"[{' '.join(known)}] " if known else ""
        return super().format(record)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def prepare(handler: logging.Handler, log_format: str) -> logging.Handler:
    """Give a handler the line format, the context fields and the masking."""
    handler.setFormatter(formatter(log_format))
    for kind in (ContextFilter, PersonalDataFilter):
        if not any(isinstance(f, kind) for f in handler.filters):
            handler.addFilter(kind())
    return handler


def configure(log_format: str = "text", level: int | str = logging.INFO,
              stream=None) -> logging.Handler:
    """Send every log line of this process to stderr (or `stream`) in `log_format`."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_citizencenter", False)]:
        root.removeHandler(handler)
    handler = prepare(logging.StreamHandler(stream or sys.stderr), log_format)
    handler._citizencenter = True
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # a warning is a log line too, not text on stderr
    return handler


def init_app(app: Flask) -> None:
    """Give every request an id (the client's X-Request-ID when sane), on its log lines
    and echoed in the response's X-Request-ID header."""

    @app.before_request
    def _bind_request():
        view_args = request.view_args or {}
        g.request_id = log_context.request_id_from(
            request.headers.get("X-Request-ID"),
            personal=lambda value: mask_personal_data(value) != value)
        g.log_tokens = log_context.bind(request_id=g.request_id,
                                        case_id=view_args.get("case_id"))

    @app.after_request
    def _echo_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response

    @app.teardown_request
    def _unbind_request(_exc):
        tokens = g.pop("log_tokens", None)
        if tokens:
            # Set in another context (a streamed response's): that context ends anyway.
            with contextlib.suppress(ValueError):
                log_context.unbind(tokens)


class GunicornLogger(glogging.Logger):
    """gunicorn's own lines (start, workers, the access log) in LOG_FORMAT, masked like
    the app's; an access line carries the request id the response was sent with.

    Given as `--logger-class citizencenter.logs.GunicornLogger`.
    """

    def setup(self, cfg):
        from citizencenter.config import Config

        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                prepare(handler, Config.LOG_FORMAT)

    def access(self, resp, req, environ, request_time):
        request_id = next((value for name, value in getattr(resp, "headers", None) or ()
                           if name.lower() == "x-request-id"), None)
        tokens = log_context.bind(request_id=request_id)
        try:
            super().access(resp, req, environ, request_time)
        finally:
            log_context.unbind(tokens)
