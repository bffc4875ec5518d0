"""The demo guides' skills, capacities and service points; they start offline."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import User
from citizencenter.organisation.models import ServicePoint
from citizencenter.routing.presence import ensure_profile, join_skills

ALL_CHANNELS = ["phone", "email", "social", "webform", "walk_in"]
GUIDES = {
    # e-mail: skills, capacity per channel, service point
    "anna.lindqvist@lund.example": (
        {"categories": ["bygglov", "miljo-halsa"], "languages": ["sv", "en"],
         "channels": ALL_CHANNELS},
        {"phone": 1, "email": 5, "social": 3, "webform": 5, "walk_in": 1}, "kristallen"),
    "erik.johansson@lund.example": (
        {"categories": ["forskola-skola"], "languages": ["sv"],
         "channels": ["phone", "email", "webform"]},
        {"phone": 1, "email": 4, "webform": 4}, "kristallen"),
    "fatima.hassan@lund.example": (
        {"categories": ["ekonomiskt-bistand", "forskola-skola"], "languages": ["sv", "en", "ar"],
         "channels": ALL_CHANNELS},
        {"phone": 1, "email": 5, "social": 3, "webform": 5, "walk_in": 1}, "dalby"),
    "oskar.nilsson@lund.example": (
        {"categories": ["avfall", "gator-trafik", "felanmalan"], "languages": ["sv"],
         "channels": ["phone", "social", "walk_in"]},
        {"phone": 1, "social": 3, "walk_in": 1}, "veberod"),
}


def seed(session: Session) -> None:
    """Give the demo guides their profiles (the caller commits)."""
    points = dict(session.execute(select(ServicePoint.slug, ServicePoint.id)).all())
    for email, (skills, capacities, point) in GUIDES.items():
        user_id = session.scalar(select(User.id).where(User.email == email))
        if user_id is None:
            continue
        profile = ensure_profile(session, user_id)
        profile.skills = join_skills(skills)
        profile.capacities = capacities
        profile.service_point_id = points.get(point)
