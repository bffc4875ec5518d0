"""Gauges read at scrape time: the backlog and the live state, in one short read.

Every query is answered from an index (or a small table) and the whole read is one
transaction with a statement timeout on PostgreSQL, so a scrape every 15 s costs little
and a slow database shows as a failed read (citizencenter_metrics_database_up 0), not
as a scrape that hangs.
"""

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from citizencenter import redis_pool
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.channels.email.models import EmailKind, EmailMessage, MailboxState
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.config import local_zone
from citizencenter.db import utcnow
from citizencenter.outbox import QUEUES, OutboxMessage
from citizencenter.sla.enums import LedgerEvent
from citizencenter.sla.models import SlaLedgerEntry

log = logging.getLogger(__name__)

# Resolved and closed cases grow without end; the gauges count the work still open.
OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_CITIZEN,
                 CaseStatus.FORWARDED)
# A call still "waiting" after this long lost its final event (as on the wallboard).
STALE_WAIT = timedelta(hours=4)
STATEMENT_TIMEOUT_MS = 2000


def _gauge(name: str, documentation: str, value: float | None = None,
           labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    if labels:
        return GaugeMetricFamily(name, documentation, labels=labels)
    return GaugeMetricFamily(name, documentation, value=value or 0)


def _age(moment: datetime | None, now: datetime) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment else 0.0


def read_figures(session: Session, now: datetime) -> list[GaugeMetricFamily]:
    """The database gauges as of `now`."""
    midnight = datetime.combine(now.astimezone(local_zone()).date(), time(), local_zone())
    pending = OutboxMessage.published_at.is_(None)
    backlog = session.scalar(select(func.count()).select_from(OutboxMessage).where(pending))
    oldest = session.scalar(select(OutboxMessage.created_at).where(pending)
                            .order_by(OutboxMessage.id).limit(1))
    unrouted = session.scalar(select(func.count()).select_from(Case)
                              .where(Case.routed_at.is_(None)))
    waiting, longest = session.execute(
        select(func.count(), func.min(Call.entered_at))
        .where(Call.local_date >= midnight.date() - timedelta(days=1),
               Call.outcome == CallOutcome.WAITING, Call.entered_at > now - STALE_WAIT)).one()
    families = [
        _gauge("citizencenter_outbox_backlog", "Outbox rows not yet published to Celery.",
               backlog),
        _gauge("citizencenter_outbox_oldest_age_seconds",
               "Age of the oldest unpublished outbox row (0 when none).", _age(oldest, now)),
        _gauge("citizencenter_cases_unrouted", "Cases not routed yet.", unrouted),
        _gauge("citizencenter_calls_waiting", "Calls waiting in a phone queue now.", waiting),
        _gauge("citizencenter_calls_longest_wait_seconds",
               "Wait of the call waiting longest now (0 when none).", _age(longest, now)),
    ]

    cases = _gauge("citizencenter_cases_open", "Cases not resolved, by status and channel.",
                   labels=("status", "channel"))
    counts = dict.fromkeys(((s, c) for s in OPEN_STATUSES for c in Channel), 0)
    for status, channel, n in session.execute(
            select(Case.status, Case.channel, func.count())
            .where(Case.status.in_(OPEN_STATUSES)).group_by(Case.status, Case.channel)):
        counts[(CaseStatus(status), Channel(channel))] = n
    for (status, channel), n in counts.items():
        cases.add_metric([status.value, channel.value], n)
    families.append(cases)

    sla = dict(session.execute(
        select(SlaLedgerEntry.event, func.count())
        .where(SlaLedgerEntry.event.in_([LedgerEvent.WARNED, LedgerEvent.BREACHED]),
               SlaLedgerEntry.occurred_at >= midnight)
        .group_by(SlaLedgerEntry.event)).all())
    families += [
        _gauge("citizencenter_sla_warnings_today", "SLA warnings since local midnight.",
               sla.get(LedgerEvent.WARNED, 0)),
        _gauge("citizencenter_sla_breaches_today", "SLA breaches since local midnight.",
               sla.get(LedgerEvent.BREACHED, 0)),
    ]

    # The conditions of the partial indexes ix_email_messages_unsent, _sent_at, _failed_at.
    outbound = EmailMessage.kind != EmailKind.INBOUND
    queued = session.scalar(select(func.count()).select_from(EmailMessage).where(
        outbound, EmailMessage.sent_at.is_(None), EmailMessage.failed_at.is_(None)))
    sent = session.scalar(select(func.count()).select_from(EmailMessage)
                          .where(outbound, EmailMessage.sent_at >= midnight))
    failed = session.scalar(select(func.count()).select_from(EmailMessage)
                            .where(outbound, EmailMessage.failed_at >= midnight))
    mail = _gauge("citizencenter_outgoing_mail", "Outgoing e-mail: queued now, sent and "
                  "failed (given up) since local midnight.", labels=("state",))
    for state, n in (("queued", queued), ("sent", sent), ("failed", failed)):
        mail.add_metric([state], n)
    families.append(mail)

    polls = _gauge("citizencenter_imap_poll_age_seconds",
                   "Time since each mailbox was last polled over IMAP.", labels=("mailbox",))
    for name, polled_at in session.execute(select(MailboxState.name,
                                                  MailboxState.last_polled_at)):
        if polled_at is not None:
            polls.add_metric([name], _age(polled_at, now))
    families.append(polls)
    return families


class LiveFigures(Collector):
    """A collector that reads the gauges from the database and Redis at each scrape."""

    def __init__(self, engine: Engine, redis_url: str,
                 clock: Callable[[], datetime] = utcnow):
        self.engine, self.redis_url, self.clock = engine, redis_url, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        database_up = 1
        try:
            with Session(self.engine) as session, session.begin():
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SET TRANSACTION READ ONLY"))
                    session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
                families = read_figures(session, self.clock())
        except SQLAlchemyError as exc:
            log.warning("metrics: database figures unavailable: %s", type(exc).__name__)
            database_up, families = 0, []
        yield from families
        yield _gauge("citizencenter_metrics_database_up",
                     "1 when the scrape read the database figures, 0 when it could not.",
                     database_up)
        yield from self._queues()

    def _queues(self) -> Iterator[GaugeMetricFamily]:
        lengths = _gauge("citizencenter_celery_queue_length",
                         "Messages waiting in each Celery queue in Redis.", labels=("queue",))
        up = 1
        try:
            pipe = redis_pool.client(self.redis_url).pipeline(transaction=False)
            for queue in QUEUES:
                pipe.llen(queue)
            for queue, n in zip(QUEUES, pipe.execute(), strict=True):
                lengths.add_metric([queue], n)
        except redis.RedisError as exc:
            log.warning("metrics: queue lengths unavailable: %s", type(exc).__name__)
            up = 0
        yield lengths
        yield _gauge("citizencenter_metrics_redis_up",
                     "1 when the scrape read the queue lengths from Redis, 0 when it could not.",
                     up)
