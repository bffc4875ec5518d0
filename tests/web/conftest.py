"""Pages in a real browser: the app served over HTTP by gunicorn in a child process (on the
suite's database and Redis), driven by Playwright on Debian's chromium.

Fixtures: `live_server` (its `.url`), `browser`, `page` (a fresh context each test),
`guide_page` / `supervisor_page` / `department_page` (signed in), `sign_in(page, role)`.
Helpers: `assert_accessible(page)` (axe-core: no serious or critical violation),
`screenshot(page, name)` (test-output/screenshots/<name>.png), `record_requests(page)` and
`other_origins(urls, base)`.
"""

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from sqlalchemy import text

from citizencenter.accounts.passwords import hash_password
from tests.conftest import ROOT, TEST_SECRET_KEY, Process, _free_port, wait_for_port

SCREENSHOTS = Path(os.environ.get("TEST_OUTPUT_DIR", ROOT / "test-output")) / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
# The demo's people (citizencenter/demo.py) with a password each for the browser tests.
USERS = {
    "guide": ("anna.lindqvist@lund.example", "Anna Lindqvist"),
    "supervisor": ("maria.svensson@lund.example", "Maria Svensson"),
    "department": ("johan.berg@lund.example", "Johan Berg"),
    "admin": ("admin@lund.example", "Administratör"),
}
PASSWORD = "rätt-lösenord-för-test"


class LiveServer:
    def __init__(self, url: str, process: Process):
        self.url, self.process = url, process

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def web_users(app, engine):
    """The demo guide, supervisor and department user, with PASSWORD."""
    hashed = hash_password(PASSWORD)
    with engine.begin() as conn:
        for email, _ in USERS.values():
            conn.execute(text("UPDATE users SET password_hash = :h WHERE email = :e"),
                         {"h": hashed, "e": email})
    return USERS


@pytest.fixture(scope="session")
def live_server(database_url, redis_server, web_users, tmp_path_factory):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server.url,
           "SECRET_KEY": TEST_SECRET_KEY, "PUBLIC_BASE_URL": url,
           "SESSION_COOKIE_SECURE": "0"}  # plain HTTP on loopback
    process = Process([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                       "--workers", "1", "--threads", "8", "wsgi:app"], env,
                      tmp_path_factory.mktemp("web") / "gunicorn.log")
    try:
        wait_for_port(port, 30)
    except RuntimeError:
        process.stop()
        raise RuntimeError(f"the web server did not start:\n{process.output()[-3000:]}") from None
    yield LiveServer(url, process)
    process.stop()


@pytest.fixture(autouse=True)
def _no_signin_failures(redis_server):
    """Each test starts without earlier tests' failed sign-ins (all come from 127.0.0.1)."""
    client = redis.Redis.from_url(redis_server.url)
    for key in client.scan_iter("signin-failures:*"):
        client.delete(key)
    yield
    client.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "install Debian's chromium (.ci/services does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a context of its own (its own cookies); closed after the test."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(base_url=live_server.url, locale="sv-SE", **options)
        context.set_default_timeout(20_000)  # the machine may be busy
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, role: str, password: str = PASSWORD):
    """Sign in through the form as the demo user of `role`; the home page is shown after."""
    page.goto("/login")
    page.get_by_label("E-post").fill(USERS[role][0])
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("button", name="Logga ut").wait_for()
    # The button is there once the HTML is parsed; htmx (deferred) binds the header's
    # controls only by the load event, and a change made before that would be lost.
    page.wait_for_load_state()
    return page


@pytest.fixture
def guide_page(page):
    return sign_in(page, "guide")


@pytest.fixture
def supervisor_page(page):
    return sign_in(page, "supervisor")


@pytest.fixture
def department_page(page):
    return sign_in(page, "department")


@pytest.fixture
def admin_page(page):
    return sign_in(page, "admin")


def assert_accessible(page) -> None:
    """Fail on any serious or critical axe-core violation of the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "axe-core:\n" + "\n".join(
        f"{v['impact']} {v['id']}: {v['help']} at "
        f"{', '.join(str(n['target']) for n in v['nodes'][:5])}" for v in bad)


def screenshot(page, name: str) -> Path:
    """Save the whole page as test-output/screenshots/<name>.png (linked from the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def record_requests(page) -> list[str]:
    """Every URL the page asks for from now on (documents, scripts, styles, fetches)."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def other_origins(urls: list[str], base: str) -> list[str]:
    """The URLs among `urls` that are not on `base`'s origin (data: URLs are inline)."""
    origin = urlsplit(base)[:2]
    return [u for u in urls if not u.startswith("data:") and urlsplit(u)[:2] != origin]
