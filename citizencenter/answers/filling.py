"""Filling a template's fields in a sandbox that reaches nothing but the fields' text.

A template is written by staff but filled with what citizens wrote (their name), so it is
checked when saved: only `{{ field }}` or `{{ field | filter }}` with the fields and
filters below, and `{{ article(<id>) }}` quoting a knowledge article. No attribute or item
access, no other calls, no statements; the environment is Jinja's immutable sandbox with
every attribute and every other callable refused, in case a check is ever missed.
"""

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from citizencenter.errors import InvalidInput

FIELDS = ("citizen_name", "reference", "guide_name", "opening_hours")
FILTERS = {"upper": str.upper, "lower": str.lower, "capitalize": str.capitalize,
           "title": str.title, "trim": str.strip}


ARTICLE = "article"


class _Quote:
    """`article(<id>)` while filling: the quoted articles' text, looked up beforehand."""

    def __init__(self, quotes: dict[int, str]):
        self.quotes = quotes

    def __call__(self, article_id: int) -> str:
        return self.quotes[article_id]


class _Sandbox(ImmutableSandboxedEnvironment):
    def is_safe_attribute(self, obj, attr, value) -> bool:
        return False

    def is_safe_callable(self, obj) -> bool:
        return isinstance(obj, _Quote)


def _environment() -> _Sandbox:
    env = _Sandbox(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters = dict(FILTERS)
    env.globals = {}
    env.tests = {}
    return env


ENV = _environment()
ALLOWED = (f"fields: {', '.join(FIELDS)}; filters: {', '.join(FILTERS)}; "
           f"{ARTICLE}(<id>) quotes a knowledge article")


def _article_call(node: nodes.Node) -> bool:
    """`article(<whole number>)`, and nothing more."""
    return (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name)
            and node.node.name == ARTICLE and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const) and type(node.args[0].value) is int
            and not (node.kwargs or node.dyn_args or node.dyn_kwargs))


def _problem(node: nodes.Node) -> str | None:
    """What is not allowed about one node of the template, or None."""
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        return f"line {node.lineno}: attribute and item access are not allowed ({ALLOWED})."
    if isinstance(node, nodes.Name):
        if node.ctx != "load" or node.name not in FIELDS:
            return f"line {node.lineno}: unknown field {node.name!r} ({ALLOWED})."
        return None
    if isinstance(node, nodes.Filter):
        if node.name not in FILTERS:
            return f"line {node.lineno}: filter {node.name!r} is not allowed ({ALLOWED})."
        if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
            return f"line {node.lineno}: filters take no arguments here."
        return None
    if isinstance(node, nodes.Template | nodes.Output | nodes.TemplateData):
        return None
    return (f"line {node.lineno}: only {{{{ field }}}} and {{{{ field | filter }}}} are "
            f"allowed, not {type(node).__name__.lower()} ({ALLOWED}).")


def check(body: str, field: str = "body") -> None:
    """Refuse a template that uses more than its fields and filters, naming the problem."""
    try:
        tree = ENV.parse(body)
    except TemplateSyntaxError as exc:
        raise InvalidInput(field, f"line {exc.lineno}: {exc.message}") from None
    calls = [node for node in tree.find_all(nodes.Call) if _article_call(node)]
    # The name and number of a well-formed article(<id>) are its own; nothing else is.
    parts = {id(part) for call in calls for part in (call, call.node, call.args[0])}
    for node in [tree, *tree.find_all(nodes.Node)]:
        problem = None if id(node) in parts else _problem(node)
        if problem:
            raise InvalidInput(field, problem)


def article_ids(body: str) -> list[int]:
    """The knowledge articles a (checked) template quotes, in order of first use."""
    ids = [call.args[0].value for call in ENV.parse(body).find_all(nodes.Call)
           if _article_call(call)]
    return list(dict.fromkeys(ids))


def fill(body: str, values: dict[str, str], quotes: dict[int, str] | None = None) -> str:
    """The template's text with its fields filled and articles quoted (`quotes`: each
    quoted article's text by id; the body was checked when saved)."""
    check(body)
    return ENV.from_string(body).render({name: values.get(name, "") for name in FIELDS},
                                        **{ARTICLE: _Quote(quotes or {})})
