"""Guides' profiles and presence, set by the guides themselves and by the phone system."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from citizencenter import outbox
from citizencenter.accounts.models import Role, User
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases.enums import Channel
from citizencenter.db import is_postgresql, utcnow
from citizencenter.errors import Forbidden, InvalidInput, NotFound
from citizencenter.organisation.models import Category, Queue, ServicePoint
from citizencenter.routing.models import GuideProfile, Presence

DEFAULT_CAPACITIES = {Channel.PHONE: 1, Channel.EMAIL: 5, Channel.SOCIAL: 3,
                      Channel.WEBFORM: 5, Channel.WALK_IN: 1}
ROUTABLE_ROLES = (Role.GUIDE, Role.SUPERVISOR)


def takes_work(user: User | None) -> bool:
    """Routing may give this user cases and calls: active, a guide or a supervisor."""
    return user is not None and user.active and user.role in ROUTABLE_ROLES


_KINDS = {"category": "categories", "language": "languages", "channel": "channels"}


def split_skills(tags: list[str]) -> dict[str, list[str]]:
    """{"categories": […], "languages": […], "channels": […]} from "kind:value" tags."""
    out: dict[str, list[str]] = {plural: [] for plural in _KINDS.values()}
    for tag in tags:
        kind, _, value = tag.partition(":")
        if kind in _KINDS:
            out[_KINDS[kind]].append(value)
    return out


def join_skills(skills: dict[str, list[str]]) -> list[str]:
    singular = {plural: kind for kind, plural in _KINDS.items()}
    return sorted({f"{singular[kind]}:{v}" for kind, values in skills.items() for v in values})


def ensure_profile(session: Session, user_id: int, *, lock: bool = False) -> GuideProfile:
    """The guide's profile, created with defaults the first time routing meets them."""
    query = select(GuideProfile).where(GuideProfile.user_id == user_id)
    if lock and is_postgresql(session):
        query = query.with_for_update()
    profile = session.scalar(query)
    if profile is not None:
        return profile
    user = session.get(User, user_id)
    if not takes_work(user):
        raise NotFound("No active guide with this id.")
    profile = GuideProfile(user_id=user_id, presence=Presence.OFFLINE,
                           skills=["language:sv", *(f"channel:{c}" for c in Channel)],
                           capacities={c.value: n for c, n in DEFAULT_CAPACITIES.items()})
    try:
        with session.begin_nested():
            session.add(profile)
    except IntegrityError:  # another request made it first
        return session.scalar(query.execution_options(populate_existing=True))
    return profile


def _slug_ids(session: Session, model, slugs: list[str], field: str) -> list[int]:
    rows = dict(session.execute(select(model.slug, model.id).where(model.slug.in_(slugs))).all())
    unknown = sorted(set(slugs) - set(rows))
    if unknown:
        raise InvalidInput(field, f"Unknown: {', '.join(unknown)}.")
    return [rows[s] for s in slugs]


def _snapshot(profile: GuideProfile) -> dict:
    """What the trail keeps of a profile (presence is audited on its own)."""
    return {"skills": sorted(profile.skills or []), "capacities": dict(profile.capacities or {}),
            "queue_ids": list(profile.queue_ids or []),
            "service_point_id": profile.service_point_id}


def update_profile(session: Session, actor: Principal, user_id: int, changes: dict
                   ) -> GuideProfile:
    """Change a guide's skills, capacities, queues or service point."""
    profile = ensure_profile(session, user_id, lock=True)
    before = _snapshot(profile)
    if "skills" in changes:
        _slug_ids(session, Category, changes["skills"].get("categories", []),
                  "skills.categories")
        profile.skills = join_skills(changes["skills"])
    if "capacities" in changes:
        profile.capacities = {str(k): v for k, v in changes["capacities"].items()}
    if "queues" in changes:
        profile.queue_ids = _slug_ids(session, Queue, changes["queues"], "queues")
    if "service_point" in changes:
        slug = changes["service_point"]
        profile.service_point_id = None if slug is None else \
            _slug_ids(session, ServicePoint, [slug], "service_point")[0]
    if profile.presence == Presence.AVAILABLE:  # more capacity may pull waiting cases
        outbox.enqueue(session, "routing.guide_available", {"user_id": user_id})
    audit.record_changes(session, actor.actor, "guide.profile_changed", "user", user_id, before,
                         _snapshot(profile))
    session.commit()
    return profile


def _change(session: Session, profile: GuideProfile, presence: Presence, at, source: str
            ) -> None:
    if presence == Presence.AVAILABLE and profile.presence != Presence.AVAILABLE:
        profile.idle_since = at
        outbox.enqueue(session, "routing.guide_available", {"user_id": profile.user_id})
    profile.presence, profile.presence_changed_at, profile.presence_source = presence, at, source


def sign_off_unroutable(session: Session, actor: Principal, user: User) -> None:
    """A user deactivated, or no longer a guide or supervisor, is routed nothing more."""
    if takes_work(user):
        return
    profile = session.get(GuideProfile, user.id)
    if profile is not None:
        sign_off(session, actor, profile, "account")


def sign_off(session: Session, actor: Principal, profile: GuideProfile, source: str) -> None:
    """Set the guide offline on someone else's word (`source`), audited as any change."""
    if profile.presence == Presence.OFFLINE:
        return
    previous = profile.presence
    _change(session, profile, Presence.OFFLINE, utcnow(), source)
    audit.record(session, actor.actor, "guide.presence_changed", "user", profile.user_id,
                 **{"from": previous.value, "to": Presence.OFFLINE.value})


def set_presence(session: Session, actor: Principal, user_id: int, presence: Presence
                 ) -> GuideProfile:
    """Set a guide's presence; becoming available pulls the next waiting case."""
    if actor.user_id != user_id and not actor.has_scope("routing:write"):
        raise Forbidden("You may set only your own presence.")
    profile = ensure_profile(session, user_id, lock=True)
    previous = profile.presence
    _change(session, profile, presence, utcnow(), "manual")
    audit.record(session, actor.actor, "guide.presence_changed", "user", user_id,
                 **{"from": previous.value, "to": presence.value})
    session.commit()
    return profile


def apply_call_presence(session: Session, call_ids: list[int]) -> int:
    """Make a guide busy while the phone system reports them on a call, available after.

    Only the guide's newest call counts, and only if it is newer than the last change,
    so late or repeated events never undo a later state; a guide who set themselves
    away or offline is left alone.
    """
    from citizencenter.channels.phone.models import Call

    calls = session.scalars(select(Call).where(Call.id.in_(call_ids),
                                               Call.agent_user_id.is_not(None))).all()
    newest: dict[int, Call] = {}
    for call in calls:
        known = newest.get(call.agent_user_id)
        if known is None or (call.last_event_at or call.entered_at) > \
                (known.last_event_at or known.entered_at):
            newest[call.agent_user_id] = call
    changed = 0
    for user_id, call in sorted(newest.items()):
        profile = session.get(GuideProfile, user_id, with_for_update=is_postgresql(session))
        at = call.last_event_at or call.entered_at
        if profile is None or at is None or at <= profile.presence_changed_at:
            continue
        if call.answered_at and call.finished_at is None \
                and profile.presence == Presence.AVAILABLE:
            _change(session, profile, Presence.BUSY, at, "call")
            changed += 1
        elif call.finished_at and profile.presence == Presence.BUSY \
                and profile.presence_source == "call":
            _change(session, profile, Presence.AVAILABLE, at, "call")
            changed += 1
    session.commit()
    return changed


def presence_of(session: Session, user_id: int) -> Presence:
    """A guide's presence, read only: offline until routing has met them.

    By primary key, so a profile this transaction already read is not read again."""
    profile = session.get(GuideProfile, user_id)
    return profile.presence if profile is not None else Presence.OFFLINE


def list_profiles(session: Session) -> list[GuideProfile]:
    return list(session.scalars(select(GuideProfile).order_by(GuideProfile.user_id)))
