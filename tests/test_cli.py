from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from citizencenter.accounts.models import User
from citizencenter.cli import cli
from tests.factories import bearer


def _invoke(app, *args):
    runner = CliRunner()
    return runner.invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app),
                         catch_exceptions=False)


def test_create_user_and_token_then_use_it(app, session, client):
    result = _invoke(app, "create-user", "--email", "Lisa.Ek@lund.example", "--name",
                     "Lisa Ek", "--role", "guide")
    assert result.exit_code == 0, result.output
    assert session.scalar(select(User).where(User.email == "lisa.ek@lund.example"))
    result = _invoke(app, "create-token", "--name", "lisa", "--user", "lisa.ek@lund.example")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("cc_") and " " not in token
    response = client.get("/api/v1/cases", headers=bearer(token))
    assert response.status_code == 200


def test_create_integration_token_with_scopes(app, session, client):
    result = _invoke(app, "create-token", "--name", "växel", "--scopes", "calls:write")
    token = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 403


def test_create_token_refuses_bad_input(app, session):
    assert _invoke(app, "create-token", "--name", "x").exit_code != 0
    assert _invoke(app, "create-user", "--email", "a@b.se", "--name", "A",
                   "--role", "janitor").exit_code != 0


def test_seed_demo_runs_once(app, session):
    result = _invoke(app, "seed-demo")
    assert result.exit_code == 0 and "already present" in result.output
