"""Import every model module so that Base.metadata knows all tables (Alembic, tests)."""

import importlib
import pkgutil

import citizencenter


def load_all() -> None:
    importlib.import_module("citizencenter.idempotency")
    importlib.import_module("citizencenter.outbox")
    for module in pkgutil.walk_packages(citizencenter.__path__, "citizencenter."):
        if module.name.endswith(".models") and module.name != "citizencenter.models":
            importlib.import_module(module.name)
