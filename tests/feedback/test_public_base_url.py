"""Feedback links point where citizens reach the service, never at a guessed address."""

import uuid

import pytest

from workers.tasks.feedback import request_feedback


def test_no_invitation_without_a_public_base_url(app, session):
    saved = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = ""
    try:
        with app.app_context(), pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
            request_feedback.run({"case_id": str(uuid.uuid4())})
    finally:
        app.config["PUBLIC_BASE_URL"] = saved
