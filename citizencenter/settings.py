"""The typed settings: each setting of config.Config declares its kind here, is read from
the environment once, and is checked in the running configuration at start.

A value that does not parse is kept as an `Invalid` in its place, not raised at import:
create_app's overrides may replace it, and otherwise `problems` names it with every other
bad value at once, one line each, instead of the traceback of the first.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from citizencenter.proxies import parse_networks


@dataclass(frozen=True)
class Invalid:
    """An environment value that did not parse, and why."""

    raw: str
    reason: str


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # int, float, text, flag, choice, url, ints, networks
    secret: bool = False
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    check: Callable[[object], str | None] | None = field(default=None, compare=False)


SETTINGS: dict[str, Setting] = {}
FLAGS = {"1": True, "true": True, "yes": True, "on": True,
         "0": False, "false": False, "no": False, "off": False}


def _parse(setting: Setting, raw: str):
    """The typed value of `raw`, or an Invalid saying why not."""
    kind = setting.kind
    if kind in ("int", "float"):
        try:
            value = int(raw) if kind == "int" else float(raw)
        except ValueError:
            return Invalid(raw, f"is not {'a whole' if kind == 'int' else 'a'} number")
        return value
    if kind == "flag":
        if raw.strip().lower() not in FLAGS:
            return Invalid(raw, "is not 1 or 0")
        return FLAGS[raw.strip().lower()]
    if kind == "ints":
        try:
            return tuple(int(part) for part in raw.split(","))
        except ValueError:
            return Invalid(raw, "is not a comma-separated list of whole numbers")
    if kind == "networks":
        try:
            return parse_networks(raw)
        except ValueError as exc:
            return Invalid(raw, f"has {exc}")
    return raw


def _problem(setting: Setting, value) -> str | None:
    """What is wrong with the running value of a setting, if anything."""
    if isinstance(value, Invalid):
        return value.reason
    kind = setting.kind
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return "is not a whole number"
    if kind == "float" and not isinstance(value, int | float):
        return "is not a number"
    if kind in ("int", "float") and setting.minimum is not None and value < setting.minimum:
        return f"is below {setting.minimum:g}"
    if kind == "choice" and value not in setting.choices:
        return f"is not one of {', '.join(setting.choices)}"
    if kind == "url" and value:
        parts = urlsplit(str(value))
        scheme = parts.scheme.split("+")[0]
        if setting.schemes and scheme not in setting.schemes:
            return f"is not a {' or '.join(setting.schemes)} URL"
        if scheme not in ("sqlite", "unix") and not parts.hostname:
            return "has no host"
    if kind == "networks":
        try:
            parse_networks(value)
        except (ValueError, TypeError) as exc:
            return f"has {exc}"
    if setting.check is not None:
        return setting.check(value)
    return None


def declare(name: str, default, kind: str, environ: Mapping[str, str] = os.environ,
            **options):
    """Declare a setting and return its value from `environ` (the default when unset)."""
    setting = Setting(name, kind, **options)
    SETTINGS[name] = setting
    raw = environ.get(name)
    return default if raw is None else _parse(setting, raw)


def problems(config: Mapping) -> list[str]:
    """One line for each declared setting whose running value is bad; settings the
    configuration does not hold are not looked at."""
    found = []
    for name, setting in SETTINGS.items():
        if name not in config:
            continue
        value = config[name]
        problem = _problem(setting, value)
        if problem:
            shown = value.raw if isinstance(value, Invalid) else value
            if setting.secret:
                shown = "…"
            found.append(f"{name}={shown!s:.60} {problem}")
    return found


def shown(config: Mapping) -> list[tuple[str, str]]:
    """Every declared setting's running value as text, secrets masked."""
    rows = []
    for name, setting in SETTINGS.items():
        value = config.get(name)
        if isinstance(value, Invalid):
            value = value.raw
        if setting.secret:
            text = "(set, masked)" if value else "(unset)"
        elif setting.kind == "url" and value:
            text = _mask_url(str(value))
        elif isinstance(value, tuple):
            text = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            text = "1" if value else "0"
        else:
            text = str(value)
        rows.append((name, text))
    return rows


def _mask_url(url: str) -> str:
    """A URL without the password it may carry (postgresql://user:secret@host/db)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    return url
