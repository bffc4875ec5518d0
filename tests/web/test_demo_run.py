"""`citizencenter run` prints the demo guide's and supervisor's passwords, and they work."""

import re

import pytest

from tests.test_embedded_run import Runner

pytestmark = pytest.mark.worker


def test_the_embedded_run_prints_demo_sign_ins_that_work(tmp_path, browser):
    runner = Runner(tmp_path / "instance")
    try:
        output = runner.output()
        assert f"Sign in to the pages at {runner.base}/login" in output
        logins = dict(re.findall(r"^  (guide|supervisor) +(\S+@\S+ +\S+)$", output, re.M))
        assert set(logins) == {"guide", "supervisor"}
        context = browser.new_context(base_url=runner.base)
        try:
            page = context.new_page()
            for role in ("guide", "supervisor"):
                email, password = logins[role].split()
                page.goto("/login")
                page.get_by_label("E-post").fill(email)
                page.get_by_label("Lösenord").fill(password)
                page.get_by_role("button", name="Logga in").click()
                page.get_by_role("button", name="Logga ut").click()  # plain HTTP: not Secure
                page.get_by_role("status").wait_for()
        finally:
            context.close()
    finally:
        runner.stop()
