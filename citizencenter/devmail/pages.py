"""`/dev/mail`: the mail the embedded run's sink kept, newest first, and one message with
its headers and text (HTML as escaped source, never rendered). Only where DEV_MAIL_DIR is
set, which `citizencenter run` does; anywhere else these addresses do not exist (404)."""

from pathlib import Path

from flask import current_app, render_template

from citizencenter.devmail import store
from citizencenter.errors import NotFound
from citizencenter.web import PageBlueprint, login_required

bp = PageBlueprint("dev_mail", __name__, template_folder="templates")


@bp.before_request
def _embedded_run_only() -> None:
    if not current_app.config.get("DEV_MAIL_DIR"):
        raise NotFound("No such page.")


def _directory() -> Path:
    return Path(current_app.config["DEV_MAIL_DIR"])


@bp.route("/dev/mail")
@login_required
def mail_list():
    return render_template("devmail/list.html", mails=store.list_mail(_directory()),
                           directory=_directory())


@bp.route("/dev/mail/<name>")
@login_required
def mail_item(name: str):
    mail = store.read_mail(_directory(), name)
    if mail is None:
        raise NotFound("No such message.")
    return render_template("devmail/mail.html", mail=mail)
