"""Routing rules: kept as versions, checked against the reference data, matched in order."""

from dataclasses import dataclass, field
from datetime import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import Department
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import Case
from citizencenter.config import local_zone
from citizencenter.db import utcnow
from citizencenter.errors import InvalidInput, NotFound
from citizencenter.organisation.models import Category, Queue
from citizencenter.routing import text
from citizencenter.routing.models import RoutingRule, RoutingRuleVersion

OPEN = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_CITIZEN, CaseStatus.FORWARDED)


def _known_slugs(session: Session, model, slugs, field_name: str) -> None:
    slugs = set(slugs)
    found = set(session.scalars(select(model.slug).where(model.slug.in_(slugs))))
    if slugs - found:
        raise InvalidInput(field_name, f"Unknown: {', '.join(sorted(slugs - found))}.")


def validate(session: Session, data: dict) -> None:
    """Check what the schema cannot: slugs that must exist and keywords that must say something."""
    conditions, actions = data.get("conditions", {}), data["actions"]
    _known_slugs(session, Category, conditions.get("categories", []), "conditions.categories")
    codes = set(conditions.get("service_codes", []))
    unknown = codes - set(session.scalars(select(Category.service_code)
                                          .where(Category.service_code.in_(codes))))
    if unknown:
        raise InvalidInput("conditions.service_codes", f"Unknown: {', '.join(sorted(unknown))}.")
    for n, keyword in enumerate(conditions.get("keywords", [])):
        if not text.keyword_stems(keyword):
            raise InvalidInput(f"conditions.keywords.{n}", "Holds no letters or digits.")
    if ("queue" in actions) == ("department" in actions):
        raise InvalidInput("actions", "Give exactly one of queue and department.")
    if "queue" in actions:
        _known_slugs(session, Queue, [actions["queue"]], "actions.queue")
    if "department" in actions:
        _known_slugs(session, Department, [actions["department"]], "actions.department")
    skills = actions.get("required_skills", {})
    _known_slugs(session, Category, skills.get("categories", []),
                 "actions.required_skills.categories")


def _add_version(session: Session, rule: RoutingRule, actor: Principal, data: dict,
                 number: int) -> RoutingRuleVersion:
    version = RoutingRuleVersion(rule_id=rule.id, version=number, name=data["name"],
                                 position=data["position"], conditions=data.get("conditions", {}),
                                 actions=data["actions"], created_by=actor.actor)
    session.add(version)
    session.flush()
    rule.current_version_id, rule.position = version.id, version.position
    return version


def _snapshot(version: RoutingRuleVersion) -> dict:
    """What the trail keeps of a rule: the content of one version."""
    return {"version": version.version, "name": version.name, "position": version.position,
            "conditions": version.conditions, "actions": version.actions}


def create_rule(session: Session, actor: Principal, data: dict) -> RoutingRuleVersion:
    """Add a rule at its position."""
    validate(session, data)
    rule = RoutingRule(position=data["position"])
    session.add(rule)
    session.flush()
    version = _add_version(session, rule, actor, data, 1)
    audit.record(session, actor.actor, "routing_rule.created", "routing_rule", rule.id,
                 new=_snapshot(version))
    session.commit()
    return version


def _live_rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None or rule.retired_at is not None:
        raise NotFound("No such routing rule.")
    return rule


def get_rule(session: Session, rule_id: int) -> RoutingRuleVersion:
    return _live_rule(session, rule_id).current


def edit_rule(session: Session, actor: Principal, rule_id: int, data: dict
              ) -> RoutingRuleVersion:
    """Replace a rule's content with a new version; the old versions stay."""
    rule = _live_rule(session, rule_id)
    validate(session, data)
    number = session.scalar(select(func.max(RoutingRuleVersion.version))
                            .where(RoutingRuleVersion.rule_id == rule.id))
    before = _snapshot(rule.current)
    version = _add_version(session, rule, actor, data, number + 1)
    audit.record(session, actor.actor, "routing_rule.changed", "routing_rule", rule.id,
                 **audit.changes(before, _snapshot(version)))
    session.commit()
    return version


def retire_rule(session: Session, actor: Principal, rule_id: int) -> None:
    """Stop using a rule; its versions stay readable for the cases they routed."""
    rule = _live_rule(session, rule_id)
    rule.retired_at = utcnow()
    audit.record(session, actor.actor, "routing_rule.retired", "routing_rule", rule.id,
                 old=_snapshot(rule.current))
    session.commit()


def rule_versions(session: Session, rule_id: int) -> list[RoutingRuleVersion]:
    if session.get(RoutingRule, rule_id) is None:
        raise NotFound("No such routing rule.")
    return list(session.scalars(select(RoutingRuleVersion)
                                .where(RoutingRuleVersion.rule_id == rule_id)
                                .order_by(RoutingRuleVersion.version)))


def current_rules(session: Session) -> list[RoutingRuleVersion]:
    """Live rules in the order they are tried."""
    rules = session.scalars(select(RoutingRule).where(RoutingRule.retired_at.is_(None))
                            .order_by(RoutingRule.position, RoutingRule.id)).unique()
    return [rule.current for rule in rules]


@dataclass
class CaseFacts:
    """What rules look at, gathered once per case."""

    case: Case
    words: list[str]
    language: str | None
    _open_cases: int | None = field(default=None, repr=False)

    def open_cases(self, session: Session) -> int:
        if self._open_cases is None:
            self._open_cases = 0 if self.case.contact_id is None else session.scalar(
                select(func.count()).select_from(Case).where(
                    Case.contact_id == self.case.contact_id, Case.id != self.case.id,
                    Case.status.in_(OPEN)))
        return self._open_cases


def _hhmm(value: str) -> time:
    return time.fromisoformat(value)


def _in_hours(hours: dict, facts: CaseFacts) -> bool:
    local = facts.case.received_at.astimezone(local_zone())
    if "weekdays" in hours and local.isoweekday() not in hours["weekdays"]:
        return False
    start, end, now = _hhmm(hours.get("from", "00:00")), _hhmm(hours.get("to", "23:59")), \
        local.time()
    return start <= now < end if start <= end else (now >= start or now < end)


def _contact_matches(wanted: dict, facts: CaseFacts, session: Session) -> bool:
    contact = facts.case.contact
    checks = {
        "known": lambda v: (contact is not None) == v,
        "has_email": lambda v: bool(contact and contact.email) == v,
        "has_phone": lambda v: bool(contact and contact.phone) == v,
        "email_domains": lambda v: bool(contact and contact.email) and
        contact.email.rsplit("@", 1)[-1] in {d.lower() for d in v},
        "min_open_cases": lambda v: facts.open_cases(session) >= v,
    }
    return all(checks[name](value) for name, value in wanted.items())


def rule_matches(rule: RoutingRuleVersion, facts: CaseFacts, session: Session) -> bool:
    """All given conditions hold; within a list, any entry will do."""
    c, case = rule.conditions, facts.case
    if "channels" in c and case.channel.value not in c["channels"]:
        return False
    if "categories" in c and (case.category is None or case.category.slug not in c["categories"]):
        return False
    if "languages" in c and (facts.language or "sv") not in c["languages"]:
        return False
    if "service_codes" in c and (case.category is None
                                 or case.category.service_code not in c["service_codes"]):
        return False
    if "keywords" in c and not any(text.matches(text.keyword_stems(k), facts.words)
                                   for k in c["keywords"]):
        return False
    if "hours" in c and not _in_hours(c["hours"], facts):
        return False
    return not ("contact" in c and not _contact_matches(c["contact"], facts, session))


def first_match(session: Session, facts: CaseFacts,
                live: list[RoutingRuleVersion] | None = None) -> RoutingRuleVersion | None:
    """The first of the live rules (read now unless given) that the case matches."""
    live = current_rules(session) if live is None else live
    return next((r for r in live if rule_matches(r, facts, session)), None)


def move_rule(session: Session, actor: Principal, rule_id: int, direction: str
              ) -> list[RoutingRuleVersion]:
    """Move a rule one step up or down the order; each rule whose position changes gets a
    new version, as an edit gives it. Returns the live rules in their new order."""
    if direction not in ("up", "down"):
        raise InvalidInput("direction", "Use up or down.")
    _live_rule(session, rule_id)
    live = current_rules(session)
    at = next(n for n, version in enumerate(live) if version.rule_id == rule_id)
    other = at - 1 if direction == "up" else at + 1
    if not 0 <= other < len(live):
        return live  # already first or last: nothing to move
    order = list(live)
    order[at], order[other] = order[other], order[at]
    if live[at].position != live[other].position:
        positions = {live[at].rule_id: live[other].position,
                     live[other].rule_id: live[at].position}
    else:  # equal positions: number the whole list apart, ten steps each
        positions = {version.rule_id: 10 * (n + 1) for n, version in enumerate(order)}
    for version in order:
        position = positions.get(version.rule_id, version.position)
        if position == version.position:
            continue
        rule = session.get(RoutingRule, version.rule_id)
        number = session.scalar(select(func.max(RoutingRuleVersion.version))
                                .where(RoutingRuleVersion.rule_id == rule.id))
        before = _snapshot(version)
        data = {"name": version.name, "position": position,
                "conditions": version.conditions, "actions": version.actions}
        new = _add_version(session, rule, actor, data, number + 1)
        session.expire(rule, ["current"])
        audit.record(session, actor.actor, "routing_rule.moved", "routing_rule", rule.id,
                     **audit.changes(before, _snapshot(new)))
    session.commit()
    return current_rules(session)


def explain(rule: RoutingRuleVersion, facts: CaseFacts) -> list[dict]:
    """Why a rule matched: each of its conditions with what the case showed for it."""
    c, case, reasons = rule.conditions, facts.case, []
    if "channels" in c:
        reasons.append({"condition": "channels", "value": case.channel.value})
    if "categories" in c:
        reasons.append({"condition": "categories",
                        "value": case.category.slug if case.category else None})
    if "languages" in c:
        reasons.append({"condition": "languages", "value": facts.language or "sv"})
    if "service_codes" in c:
        reasons.append({"condition": "service_codes",
                        "value": case.category.service_code if case.category else None})
    if "keywords" in c:
        reasons.append({"condition": "keywords", "value": next(
            k for k in c["keywords"] if text.matches(text.keyword_stems(k), facts.words))})
    if "hours" in c:
        reasons.append({"condition": "hours",
                        "value": case.received_at.astimezone(local_zone()).strftime("%H:%M")})
    if "contact" in c:
        reasons.append({"condition": "contact", "value": ", ".join(sorted(c["contact"]))})
    return reasons
