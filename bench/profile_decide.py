"""Profile routing/decide in-process: SQL statements and CPU time per POST /api/v1/routing/decide.

Runs the real app (Flask test client) against PostgreSQL and a private Redis, with the
demo data, `--guides` available guides with PBX agents and phone capacity, and some of
the callers' earlier cases assigned (so the sticky lookup finds a guide for some calls).
Prints statements per request, CPU ms per request (p50/p99, time.process_time) and the
top cumulative functions of a cProfile run.

    .venv/bin/python bench/profile_decide.py [--requests 300] [--top 25|0] [--show-sql]

The database (default citizencenter_profile on the local cluster) is emptied and
migrated first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profile_intake import (  # noqa: E402
    arguments,
    measure,
    profiled_app,
)

from citizencenter import db  # noqa: E402

CALLERS = 50  # distinct numbers; every fifth has an open case with a guide


def prepare(session, guides: int) -> None:
    from citizencenter.accounts import service as accounts
    from citizencenter.cases.enums import Channel
    from citizencenter.cases.models import Case
    from citizencenter.channels.phone.models import PbxAgent
    from citizencenter.contacts.models import Contact
    from citizencenter.db import utcnow
    from citizencenter.routing import presence
    from citizencenter.routing.models import Presence

    ids = []
    for n in range(guides):
        user = accounts.create_user(session, f"guide{n}@profile.example", f"Guide {n}", "guide")
        profile = presence.ensure_profile(session, user.id)
        profile.skills = presence.join_skills({"languages": ["sv"],
                                               "channels": ["email", "phone"]})
        profile.capacities = {"email": 10, "phone": 1}
        profile.presence, profile.idle_since = Presence.AVAILABLE, utcnow()
        session.add(PbxAgent(agent_id=f"PROFILE/{n}", user_id=user.id))
        ids.append(user.id)
    session.flush()
    for n in range(0, CALLERS, 5):
        contact = Contact(phone=f"+4646100{n:03d}")
        session.add(contact)
        session.flush()
        session.add(Case(reference=f"PRF-{n:06d}", channel=Channel.EMAIL,
                         subject="Tidigare ärende", contact_id=contact.id,
                         assignee_id=ids[n % len(ids)]))
    session.commit()


def main() -> None:
    from citizencenter.accounts import service as accounts

    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--guides", type=int, default=25)
    args = parser.parse_args()
    with profiled_app(args, "profile-decide-") as app:
        with app.app_context():
            prepare(db.session, args.guides)
            _, token = accounts.create_token(db.session, "profile pbx", role="admin")
            db.session.remove()
        client = app.test_client()
        calls = [0]

        def post() -> None:
            calls[0] += 1
            response = client.post("/api/v1/routing/decide", json={
                "caller": f"+4646100{calls[0] % CALLERS:03d}", "queue": "kontaktcenter"},
                headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                raise SystemExit(f"POST answered {response.status_code}: {response.data!r}")

        measure(app.extensions["engine"], post, args)

if __name__ == "__main__":
    main()
