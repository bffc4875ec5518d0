"""Retention rules as data, the plan (a dry run) and the run that erases what is due.

A case is due when it has been closed (or resolved and not reopened) for longer than the
rule that covers it keeps it. The most specific rule covers a case: category and channel,
then category alone, then channel alone, then the default rule (neither). With no rule
covering it a case is kept for ever: erasing is always something a supervisor decided.
A case under a legal hold, or whose contact is, is never due.
"""

import calendar
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from citizencenter.audit import service as audit
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.errors import Conflict, NotFound
from citizencenter.organisation import service as organisation
from citizencenter.organisation.models import Category
from citizencenter.privacy import erasure
from citizencenter.privacy.models import CaseErasure, LegalHold, RetentionRule

RETENTION_REASON = "retention"
RETENTION_SCOPE = "retention:write"
# The plan names at most this many references per rule; its counts are always whole.
PLAN_REFERENCES_MAX = 1000


class RuleNotFound(NotFound):
    pass


def list_rules(session: Session) -> list[RetentionRule]:
    """Every retention rule, most specific first."""
    return sorted(session.scalars(select(RetentionRule)), key=lambda r: (-_rank(r), r.id))


def get_rule(session: Session, rule_id: int) -> RetentionRule:
    rule = session.get(RetentionRule, rule_id)
    if rule is None:
        raise RuleNotFound(f"No retention rule {rule_id}.")
    return rule


def create_rule(session: Session, actor: str, data: dict) -> RetentionRule:
    """Add a rule for a category and/or channel, or the default rule (neither)."""
    rule = RetentionRule(created_by=actor, keep_months=data["keep_months"])
    _place(session, rule, data)
    session.add(rule)
    session.flush()
    audit.record(session, actor, "retention_rule.created", "retention_rule", rule.id,
                 **_described(rule))
    session.commit()
    return rule


def change_rule(session: Session, actor: str, rule_id: int, data: dict) -> RetentionRule:
    """Change a rule's months, category or channel."""
    rule = get_rule(session, rule_id)
    before = _described(rule)
    if "keep_months" in data:
        rule.keep_months = data["keep_months"]
    _place(session, rule, data)
    session.flush()
    audit.record_changes(session, actor, "retention_rule.changed", "retention_rule", rule.id,
                         before, _described(rule))
    session.commit()
    return rule


def delete_rule(session: Session, actor: str, rule_id: int) -> None:
    """Remove a rule; the cases it covered fall to the next rule, or are kept."""
    rule = get_rule(session, rule_id)
    audit.record(session, actor, "retention_rule.deleted", "retention_rule", rule.id,
                 **_described(rule))
    session.delete(rule)
    session.commit()


def _place(session: Session, rule: RetentionRule, data: dict) -> None:
    if "category" in data:
        category = organisation.by_slug(session, Category, data["category"], "category")
        rule.category_id = category.id if category else None
    if "channel" in data:
        rule.channel = str(data["channel"]) if data["channel"] else None
    twin = session.scalar(select(RetentionRule.id).where(
        RetentionRule.id != (rule.id or 0), _same(RetentionRule.category_id, rule.category_id),
        _same(RetentionRule.channel, rule.channel)))
    if twin is not None:
        raise Conflict(f"Retention rule {twin} already covers this category and channel.")


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _rank(rule: RetentionRule) -> int:
    return 2 * (rule.category_id is not None) + (rule.channel is not None)


def _described(rule: RetentionRule) -> dict:
    return {"category_id": rule.category_id, "channel": rule.channel,
            "keep_months": rule.keep_months}


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day at most)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _matches(rule: RetentionRule):
    condition = []
    if rule.category_id is not None:
        condition.append(Case.category_id == rule.category_id)
    if rule.channel is not None:
        condition.append(Case.channel == Channel(rule.channel))
    return and_(*condition) if condition else None


def _covered_by(rule: RetentionRule, rules: list[RetentionRule]):
    """The cases `rule` covers: it matches them and no more specific rule does."""
    matches = _matches(rule)
    condition = [matches] if matches is not None else []
    closer = [m for other in rules if _rank(other) > _rank(rule)
              and (m := _matches(other)) is not None]
    if closer:
        condition.append(~or_(*closer))
    return condition


def _ended_at():
    return func.coalesce(Case.closed_at, Case.resolved_at)


def _held():
    on_case = exists().where(LegalHold.case_id == Case.id, LegalHold.released_at.is_(None))
    on_contact = exists().where(LegalHold.contact_id == Case.contact_id,
                                LegalHold.released_at.is_(None))
    return or_(on_case, on_contact)


def _due_query(rule: RetentionRule, rules: list[RetentionRule], now: datetime):
    """Cases of `rule` past their keep time and not erased since they ended, held or not."""
    return (select(Case.id, Case.reference).where(
        *_covered_by(rule, rules),
        Case.status.in_((CaseStatus.CLOSED, CaseStatus.RESOLVED)),
        _ended_at().is_not(None), _ended_at() <= months_before(now, rule.keep_months),
        # Erased, then reopened by a reply and closed again: due again for what came since.
        ~exists().where(CaseErasure.case_id == Case.id,
                        CaseErasure.erased_at >= _ended_at())))


def plan(session: Session, *, now: datetime | None = None) -> dict:
    """What the next run would erase, per rule: counts and references, no content."""
    now = now or utcnow()
    rules = list_rules(session)
    slugs = dict(session.execute(select(Category.id, Category.slug)).all())
    out = []
    for rule in rules:
        due = _due_query(rule, rules, now)
        held = session.scalar(select(func.count()).select_from(
            due.where(_held()).subquery()))
        free = due.where(~_held())
        count = session.scalar(select(func.count()).select_from(free.subquery()))
        references = list(session.scalars(
            free.with_only_columns(Case.reference).order_by(_ended_at(), Case.reference)
            .limit(PLAN_REFERENCES_MAX)))
        out.append({"rule_id": rule.id, "category": slugs.get(rule.category_id),
                    "channel": rule.channel, "keep_months": rule.keep_months,
                    "closed_before": months_before(now, rule.keep_months),
                    "count": count, "held": held, "references": references})
    return {"as_of": now, "total": sum(r["count"] for r in out), "rules": out}


def run(session: Session, *, batch_size: int, max_batches: int,
        now: datetime | None = None, actor: str = "system") -> dict:
    """Erase the cases due, `batch_size` at a time, at most `max_batches` batches.

    Each batch commits on its own: a short transaction (SQLite's write lock is not held for
    the night) that leaves every erased case complete, so a run cut short loses nothing.
    """
    now = now or utcnow()
    erased: dict[int, int] = {}
    for _ in range(max_batches):
        batch = _next_batch(session, batch_size, now)
        if not batch:
            break
        done: dict[int, int] = {}
        try:
            for case_id, rule_id in batch:
                case = session.get(Case, case_id)
                erasure.erase_case(session, case, reason=RETENTION_REASON, rule_id=rule_id,
                                   actor=actor, now=now)
                done[rule_id] = done.get(rule_id, 0) + 1
            session.commit()
        except StaleDataError:
            # Another writer changed a case of the batch meanwhile (a reply, routing): the
            # batch is rolled back whole and taken again, read afresh.
            session.rollback()
            continue
        for rule_id, count in done.items():
            erased[rule_id] = erased.get(rule_id, 0) + count
    left = plan(session, now=now)["total"]
    session.commit()
    return {"as_of": now.isoformat(), "erased": sum(erased.values()),
            "per_rule": [{"rule_id": k, "erased": v} for k, v in sorted(erased.items())],
            "still_due": left}


def _next_batch(session: Session, size: int, now: datetime) -> list[tuple]:
    rules = list_rules(session)
    batch: list[tuple] = []
    for rule in rules:
        if len(batch) >= size:
            break
        rows = session.execute(_due_query(rule, rules, now).where(~_held())
                               .order_by(_ended_at(), Case.id)
                               .limit(size - len(batch))).all()
        batch += [(case_id, rule.id) for case_id, _ in rows]
    return batch


def hold(session: Session, actor: str, *, reason: str, case_id=None,
         contact_id: int | None = None) -> LegalHold:
    """Place a legal hold on a case or a contact (exactly one)."""
    if (case_id is None) == (contact_id is None):
        raise Conflict("A legal hold lies on a case or on a contact: name exactly one.")
    if case_id is not None and session.get(Case, case_id) is None:
        raise NotFound(f"No case {case_id}.")
    if contact_id is not None and session.get(Contact, contact_id) is None:
        raise NotFound(f"No contact {contact_id}.")
    entry = LegalHold(case_id=case_id, contact_id=contact_id, reason=reason, placed_by=actor)
    session.add(entry)
    session.flush()
    audit.record(session, actor, "legal_hold.placed", "legal_hold", entry.id,
                 case_id=case_id, contact_id=contact_id)
    session.commit()
    return entry


def release(session: Session, actor: str, hold_id: int) -> LegalHold:
    """Release a legal hold; released already is no change."""
    entry = session.get(LegalHold, hold_id)
    if entry is None:
        raise NotFound(f"No legal hold {hold_id}.")
    if entry.released_at is None:
        entry.released_at, entry.released_by = utcnow(), actor
        audit.record(session, actor, "legal_hold.released", "legal_hold", entry.id,
                     case_id=entry.case_id, contact_id=entry.contact_id)
    session.commit()
    return entry


def list_holds(session: Session, *, active: bool | None = None) -> list[LegalHold]:
    query = select(LegalHold).order_by(LegalHold.id)
    if active is not None:
        query = query.where(LegalHold.released_at.is_(None) if active
                            else LegalHold.released_at.is_not(None))
    return list(session.scalars(query))

