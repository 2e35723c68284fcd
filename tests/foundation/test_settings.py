from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-for-tests-0123456789-abcdefghijkl",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "FINGERPRINT_KEYS": "a-production-fingerprint-key-for-tests-0123456789",
    "DJANGO_ALLOWED_HOSTS": "backfuture.example",
    "EMAIL_URL": "smtp://mail.example:587",
    "DATABASE_URL": "sqlite:////tmp/backfuture-prod-settings-test.sqlite3",
    "CACHE_SIGNING_KEY": "a-separate-random-cache-signing-key-for-tests-0123456789",
    "TRUSTED_PROXY_COUNT": "1",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_", "FINGERPRINT_"))
    }
    base.pop("DATABASE_URL", None)
    base.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "backfuture.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_env():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "FINGERPRINT_KEYS", "CACHE_SIGNING_KEY"],
)
def test_production_refuses_to_start_without_required_secret(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_development_mode_starts_with_no_configuration_at_all(tmp_path):
    result = run_manage(
        "check", env={"DJANGO_DEBUG": "true", "BACKFUTURE_VAR_DIR": str(tmp_path / "var")}
    )
    assert result.returncode == 0, result.stderr
    # The embedded default created its SQLite folder and broker queue folder.
    assert (tmp_path / "var" / "broker").is_dir()


def test_embedded_default_uses_sqlite_and_filesystem_broker(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE']);print(s.CELERY_BROKER_URL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "backfuture.settings",
            "DJANGO_DEBUG": "true",
            "BACKFUTURE_VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://localhost/"]


def test_production_uses_postgres_and_redis_from_env():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE']);print(s.CELERY_BROKER_URL);"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/backfuture",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "backfuture.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://127.0.0.1:6379/0",
        "True",
        "True",
        "True",
    ]


def test_every_environment_variable_is_documented_in_env_example():
    import re

    settings_source = (ROOT / "backfuture" / "settings.py").read_text()
    used = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_source))
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", example, flags=re.M))
    assert used, "no env variables found: the regex is out of date"
    assert used <= documented, f"undocumented: {sorted(used - documented)}"


@pytest.mark.parametrize(
    ("extra", "warning"),
    [
        ({"REDIS_URL": "redis://redis.internal:6379/0"}, "backfuture.W101"),
        ({"REDIS_URL": "rediss://user@redis.internal:6380/0"}, "backfuture.W101"),
        ({"TRUSTED_PROXY_COUNT": None}, "backfuture.W102"),
    ],
)
def test_production_warns_about_an_open_redis_or_an_unset_proxy_count(extra, warning):
    env = {**PRODUCTION_ENV, **{k: v for k, v in extra.items() if v is not None}}
    for name in [k for k, v in extra.items() if v is None]:
        env.pop(name)
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        {"REDIS_URL": "rediss://:a-long-redis-password@redis.internal:6380/0"},
        {"TRUSTED_PROXY_COUNT": "0"},  # explicitly: clients connect directly
    ],
)
def test_production_with_a_redis_password_and_an_explicit_proxy_count_is_clean(extra):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, **extra}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_production_checks_stay_quiet_in_development(settings):
    from backfuture.checks import check_redis_password, check_trusted_proxy_count

    settings.DEBUG = True
    settings.REDIS_URL = "redis://localhost:6379/0"
    settings.TRUSTED_PROXY_COUNT = None
    assert check_redis_password() == [] and check_trusted_proxy_count() == []


@pytest.mark.parametrize(
    "key",
    [
        PRODUCTION_ENV["DJANGO_SECRET_KEY"],
        "dev-only-cache-signing-key",  # public, in settings.py
        PRODUCTION_ENV["FINGERPRINT_KEYS"],
        "short-cache-key",
    ],
)
def test_production_refuses_a_weak_or_reused_cache_signing_key(key):
    env = {**PRODUCTION_ENV, "CACHE_SIGNING_KEY": key}
    result = run_manage("check", env=env)
    assert result.returncode != 0 and "CACHE_SIGNING_KEY" in result.stderr
