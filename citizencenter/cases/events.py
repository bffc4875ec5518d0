"""Case events: what happens to a case, told to the domains that react to it.

The case service (and forwarding) publish; SLA clocks, routing and the audit trail
subscribe at app start (`create_app`), so `cases` never imports the packages above it.
Subscribers run synchronously, in the order they subscribed, inside the publisher's
transaction, and never commit: the publishing use case commits once, at its end.

Every event carries `actor` (who caused it, as the audit trail names them).
- created: a new case (staged, maybe not flushed yet).
- status_changed: `previous`, the status the case left.
- message_added: `message`, flushed.
- assigned: `previous`, the user id it had before (or None).
- forwarded: `previous` status and `department` (slug), handed to a department.
- returned: the department sent the case back to the centre.
- viewed: the caller is shown the case (`view` and detail). Published before the case is
  loaded, so the read is the transaction's first write: `case` is None, `case_id` set.
"""

from collections.abc import Callable

from sqlalchemy.orm import Session

EVENTS = ("created", "status_changed", "message_added", "assigned", "forwarded", "returned",
          "viewed")

Handler = Callable[..., None]

_subscribers: dict[str, list[Handler]] = {event: [] for event in EVENTS}


def subscribe(event: str, handler: Handler) -> None:
    """Call `handler(session, case, **data)` on every `event`; subscribing twice is once."""
    if event not in _subscribers:
        raise ValueError(f"unknown case event {event!r}")
    if handler not in _subscribers[event]:  # create_app runs once per app, tests build many
        _subscribers[event].append(handler)


def subscribers(event: str) -> tuple[Handler, ...]:
    if event not in _subscribers:
        raise ValueError(f"unknown case event {event!r}")
    return tuple(_subscribers[event])


def publish(session: Session, event: str, case, **data) -> None:
    """Tell the subscribers of `event` about `case`, inside the caller's transaction."""
    if not any(_subscribers.values()):
        # A case changed with nobody to start its clocks or audit it: refuse, loudly.
        raise RuntimeError("No domain subscribes to case events: build the app "
                           "(citizencenter.create_app) before using the services.")
    for handler in subscribers(event):
        handler(session, case, **data)
