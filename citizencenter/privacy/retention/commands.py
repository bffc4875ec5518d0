"""`citizencenter retention plan|run`: the dry run and the erasure run from a shell."""

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from citizencenter import db
from citizencenter.privacy.retention import service


@click.group("retention")
def group():
    """Retention (gallring): what is due for erasure, and erasing it."""


@group.command("plan")
@click.option("--json", "as_json", is_flag=True, help="The plan as JSON, as the API answers.")
@with_appcontext
def plan(as_json):
    """Print what the next run would erase, per rule; changes nothing."""
    result = service.plan(db.session)
    db.session.rollback()
    if as_json:
        click.echo(json.dumps(result, default=str, indent=2))
        return
    click.echo(f"as of {result['as_of'].isoformat()}: {result['total']} cases due")
    for rule in result["rules"]:
        scope = " / ".join(filter(None, (rule["category"], rule["channel"]))) or "default"
        click.echo(f"rule {rule['rule_id']} ({scope}, {rule['keep_months']} months): "
                   f"{rule['count']} due, {rule['held']} held")
        for reference in rule["references"]:
            click.echo(f"  {reference}")


@group.command("run")
@click.option("--batch-size", type=click.IntRange(1, 10_000),
              help="Cases per transaction (default RETENTION_BATCH_SIZE).")
@click.option("--max-batches", type=click.IntRange(1, 1_000_000),
              help="Batches at most (default RETENTION_MAX_BATCHES).")
@with_appcontext
def run(batch_size, max_batches):
    """Erase the content of the cases due now, keeping their report facts."""
    config = current_app.config
    result = service.run(db.session, batch_size=batch_size or config["RETENTION_BATCH_SIZE"],
                         max_batches=max_batches or config["RETENTION_MAX_BATCHES"],
                         actor="cli")
    click.echo(f"erased {result['erased']} cases; {result['still_due']} still due")
    for rule in result["per_rule"]:
        click.echo(f"  rule {rule['rule_id']}: {rule['erased']}")
