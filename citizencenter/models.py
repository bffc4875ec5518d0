"""Import every model module so that Base.metadata knows all tables (Alembic, tests)."""


def load_all() -> None:
    from citizencenter import idempotency, outbox  # noqa: F401
    from citizencenter.accounts import models as _accounts  # noqa: F401
    from citizencenter.audit import models as _audit  # noqa: F401
    from citizencenter.cases import models as _cases  # noqa: F401
    from citizencenter.channels.phone import models as _phone  # noqa: F401
    from citizencenter.contacts import models as _contacts  # noqa: F401
    from citizencenter.integrations import models as _integrations  # noqa: F401
    from citizencenter.organisation import models as _organisation  # noqa: F401
