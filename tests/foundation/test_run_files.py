"""What a development run writes stays under var/ or is git-ignored; emails say the product's
name (issue 19, point 19)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

ROOT = Path(__file__).resolve().parents[2]

PUBLISH = """
import django
django.setup()
from backfuture.celery import app
app.send_task("connections.tasks.connections_reap_stale_tests")
"""


def test_the_filesystem_broker_keeps_its_control_folder_under_var(tmp_path):
    """kombu's filesystem transport writes ./control unless told otherwise."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_DEBUG="true",
        DJANGO_SETTINGS_MODULE="backfuture.settings",
        BACKFUTURE_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(ROOT),
    )
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", PUBLISH],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert list(workdir.iterdir()) == []
    assert any((tmp_path / "var" / "broker-control").iterdir())
    assert any((tmp_path / "var" / "broker").iterdir())  # the message itself
    assert "No hostname was supplied" not in result.stderr


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
@pytest.mark.parametrize(
    "path",
    [
        ".venv/",
        "var/",
        "backfuture.egg-info/",
        "test-results/e2e/x.png",
        "control/",
        ".env",
        ".hypothesis/",
    ],
)
def test_what_a_run_writes_is_ignored_by_git(path):
    result = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT, timeout=60)
    assert result.returncode == 0, f"{path} is not git-ignored"


@pytest.mark.django_db
def test_account_emails_name_the_product_not_the_host(client, alice, settings, mail_at_once):
    settings.SITE_URL = "https://app.example.com"
    client.post("/accounts/password/reset/", {"email": alice.email})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject.startswith("[BackFuture] ")
    assert "BackFuture" in message.body
    assert "app.example.com" in message.body
    assert "testserver" not in message.subject + message.body.replace("http://testserver/", "")
