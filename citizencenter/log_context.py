"""What every log line of the work at hand carries: the request id, the task, the case.

Plain context variables, so the outbox (which stamps its rows with the request id) and
the worker's task signals set and read them without Flask. A request id follows a case
from the HTTP request into the Celery tasks its outbox rows start.
"""

import re
import uuid
from contextvars import ContextVar, Token

FIELDS = ("request_id", "task_name", "task_id", "case_id")
_values: dict[str, ContextVar[str | None]] = {
    name: ContextVar(name, default=None) for name in FIELDS}
# A client's own id is kept only when it is a short plain token: it goes into log lines
# and a response header, so nothing that could be text, markup or a header split.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", re.ASCII)
REQUEST_ID_MAX = 200  # a coalesced task's ids, joined


def request_id_from(header: str | None, personal=lambda _value: False) -> str:
    """The client's X-Request-ID when it is a sane token and not `personal` data (it is
    stored with the outbox rows and sent to the workers), else a new id."""
    if header and SANE_REQUEST_ID.fullmatch(header) and not personal(header):
        return header
    return uuid.uuid4().hex


def bind(**values: str | None) -> list[Token]:
    """Set context fields for the work at hand; `unbind` the tokens when it ends."""
    return [_values[name].set(None if value is None else str(value))
            for name, value in values.items()]


def unbind(tokens: list[Token]) -> None:
    for token in reversed(tokens):
        token.var.reset(token)


def current() -> dict[str, str | None]:
    return {name: var.get() for name, var in _values.items()}


def request_id() -> str | None:
    return _values["request_id"].get()


def joined(request_ids) -> str | None:
    """One request id for work started by several requests (a coalesced batch)."""
    unique = list(dict.fromkeys(rid for rid in request_ids if rid))
    return ",".join(unique)[:REQUEST_ID_MAX] or None
