"""The documented order of packages: each imports only packages below it, never `workers`.

Every import counts, at any level: module-level, function-local and `TYPE_CHECKING` ones.
A lower package hears of what happens above it through case events and similar hooks
that the higher package subscribes at app start (`citizencenter.connect_domains`).
"""

import ast
from pathlib import Path

import citizencenter

ROOT = Path(citizencenter.__file__).parent

# Lowest first. A unit is a module or package under citizencenter/ (channels.* are one each);
# units in the same layer are independent of each other.
ORDER = (
    ("keys", "db", "fields", "mailer", "embedded", "redis_pool", "proxies",
     "log_context",  # log_context: the request id, task and case of the work at hand
     "swedish"),  # Swedish folding, stems and highlighting for every full-text search
    ("settings",),  # the typed settings config.Config declares
    ("config", "errors", "outbox", "reference_cache"),
    ("json_input", "json_output", "openapi", "pagination", "idempotency", "production", "backups"),
    ("api",),
    ("audit",),  # the trail every domain writes to, accounts too
    ("accounts", "contacts", "privacy"),  # privacy: masks and seals what cases store
    ("auth", "integrations", "health", "logs"),  # logs: masks what privacy detects
    ("organisation",),
    ("cases",),
    ("citizen_view",),  # the citizen's link and page; every channel's receipt links it
    ("sla",),  # clocks, calendars; staffing's call history comes from the phone channel
    ("channels.phone",),
    ("routing",),
    ("web",),  # the pages' sign-in, layout and CSRF (presence in the header is routing's)
    ("devmail",),  # the embedded run's SMTP sink and /dev/mail
    ("channels.webform", "channels.walkin", "channels.social", "feedback"),
    ("channels.email",),
    ("channels.open311",),  # GeoReport v2: rate limited as the web form is
    ("knowledge",),  # articles and their Swedish search; renders with the mail's sanitiser
    ("answers",),  # answer templates: filled for a case, quoting the knowledge base
    ("privacy.erasure",),  # erases a case's content across the channels' tables
    ("privacy.retention",),  # rules, holds, the plan and the run of retention
    ("reports", "workspace"),  # workspace: the guide's pages' use cases
    ("integrations.pages",),  # the admins' overview: phone, webhooks, mailboxes, quarantine
    ("records",),  # allmän handling: a case, its conversation and its mail's attachments
    ("dashboard", "reconciliation", "demo", "metrics"),  # metrics: counters, scrape-time gauges
    ("subject_access",),  # one person's data across every domain, exported or erased
    ("citizencenter",),  # the app factory: subscribes every domain at start
    ("cli",),
)
# Packages that only group others.
NAMESPACES = ("channels",)
# The web plumbing every view uses; it sits on accounts (tokens), so a low package's views
# (audit's) may use it although the package's service sits below accounts.
VIEW_PLUMBING = ("api", "auth", "web")

RANK = {unit: rank for rank, layer in enumerate(ORDER) for unit in layer}


def module_name(path: Path) -> str:
    parts = ("citizencenter", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def unit_of(module: str) -> str | None:
    parts = module.split(".")[1:]
    if not parts:
        return "citizencenter"
    for length in range(len(parts), 0, -1):
        if ".".join(parts[:length]) in RANK:
            return ".".join(parts[:length])
    return None


def is_view(module: str) -> bool:
    return any(part.endswith("views") or part == "pages" for part in module.split(".")[1:])


def imports_in(source: str, package: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import in `source`, however deep it sits."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                # `from citizencenter import db` imports the module citizencenter.db
                name = f"{base}.{alias.name}"
                found.append((name if name in MODULES else base, node.lineno))
    return found


def imports(module: str) -> list[tuple[str, int]]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return imports_in(path.read_text(), package)


def internal(name: str) -> str | None:
    """The citizencenter module `name` lives in, or None for other packages."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(ROOT.parent)}:{line}"


def test_every_module_has_a_place_and_every_place_a_module():
    units = {unit_of(m) for m in MODULES}
    homeless = sorted(m for m in MODULES if unit_of(m) is None
                      and m.split(".")[1:] and ".".join(m.split(".")[1:]) not in NAMESPACES)
    assert homeless == [], "place these in ORDER"
    assert sorted(set(RANK) - units) == [], "ORDER names units that no longer exist"
    assert len(RANK) == sum(len(layer) for layer in ORDER), "a unit is listed twice"


def test_no_package_imports_one_above_it():
    upward = []
    for module in MODULES:
        unit = unit_of(module)
        for name, line in imports(module):
            target = internal(name) if name.startswith("citizencenter") else None
            if target is None:
                continue
            other = unit_of(target)
            if other is None or other == unit:
                continue
            if is_view(module) and other in VIEW_PLUMBING:
                continue
            if RANK[other] >= RANK[unit]:
                upward.append(f"{where(module, line)}: {unit} imports {other} ({target})")
    assert upward == []


def test_citizencenter_never_imports_workers():
    found = [f"{where(module, line)}: {name}" for module in MODULES
             for name, line in imports(module) if name.split(".")[0] == "workers"]
    assert found == []


def test_no_import_cycle_between_modules():
    graph = {m: {t for name, _ in imports(m) if name.startswith("citizencenter")
                 and (t := internal(name)) not in (None, m, "citizencenter")}
             for m in MODULES}
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while node not in component:
                component.add(stack.pop())
            on_stack.difference_update(component)
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_the_checks_see_hidden_and_relative_imports():
    source = ("from typing import TYPE_CHECKING\n"
              "if TYPE_CHECKING:\n    from ..accounts.service import Principal\n"
              "def later():\n    from . import clocks\n    import workers.tasks\n")
    assert sorted(imports_in(source, "citizencenter.sla"), key=lambda found: found[1]) == [
        ("typing", 1), ("citizencenter.accounts.service", 3), ("citizencenter.sla.clocks", 5),
        ("workers.tasks", 6)]
    assert unit_of("citizencenter.channels.phone.models") == "channels.phone"
    assert is_view("citizencenter.routing.views.cases") and not is_view("citizencenter.db")
