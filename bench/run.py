"""Benchmark of case creation: `python bench/run.py --help`; see bench/README.md.

The services it starts run with the interpreter that runs it, so it must be the
project's virtualenv. Started with another Python, it re-executes itself with
.venv/bin/python; this file therefore imports only the standard library.
"""

import importlib.util
import os
import sys
from pathlib import Path

VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
REEXEC_MARK = "CITIZENCENTER_BENCH_REEXEC"


def _project_importable() -> bool:
    return all(importlib.util.find_spec(name) is not None
               for name in ("citizencenter", "sqlalchemy", "gunicorn", "celery"))


def main() -> int:
    if not _project_importable():
        if VENV_PYTHON.exists() and not os.environ.get(REEXEC_MARK):
            os.environ[REEXEC_MARK] = "1"
            os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])
        print("bench: the project is not installed in this Python; run "
              "`.venv/bin/pip install -e '.[test]'` or `make bench`", file=sys.stderr)
        return 1
    # The search benchmark is one process of its own (no served stack): `--only search`
    # runs it alone, and a full run adds it after the others.
    only = _only(sys.argv[1:])
    if only == "search":
        import search

        return search.main([a for a in sys.argv[1:] if a not in ("--only", "search",
                                                                 "--only=search")])
    from harness import main as run_benchmark

    code = run_benchmark()
    if only is None:
        import search

        code = search.main([]) or code
    return code


def _only(args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "--only" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--only="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__":
    sys.exit(main())
