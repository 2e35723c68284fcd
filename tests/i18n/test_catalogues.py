"""The German and French catalogues are complete, current and compiled.

- complete: no untranslated and no fuzzy entries;
- current: every translatable string in the code and templates is in the catalogue
  (makemessages is run into a scratch copy and compared);
- compiled: the committed .mo matches its .po, so a fresh machine needs no gettext.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.conftest import services_required

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["de", "fr"]


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(language):
    po = catalogue(language)
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language):
    po = catalogue(language)
    mo = polib.mofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"))
    expected = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in po.translated_entries()
    }
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in mo
        if e.msgid
    }
    assert compiled == expected, "run: python manage.py compilemessages"


def test_no_string_in_the_code_is_missing_from_the_catalogues(tmp_path):
    if shutil.which("xgettext") is None:
        if services_required():
            pytest.fail("gettext (xgettext) is needed to check the catalogues in CI")
        pytest.skip("gettext is not installed on this machine")
    # makemessages writes into the locale folder it finds while walking the tree, so it runs
    # in a scratch copy of the sources: the committed catalogues are never touched.
    scratch = tmp_path / "src"
    for name in ("backfuture", "connections", "strategies", "templates", "locale"):
        shutil.copytree(ROOT / name, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", scratch / "manage.py")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--no-obsolete",
            "-v",
            "0",
            *[f"--locale={language}" for language in LANGUAGES],
        ],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for language in LANGUAGES:
        fresh = polib.pofile(str(scratch / "locale" / language / "LC_MESSAGES" / "django.po"))
        wanted = {(e.msgctxt, e.msgid) for e in fresh if not e.obsolete}
        have = {(e.msgctxt, e.msgid) for e in catalogue(language) if not e.obsolete}
        missing = sorted(m for _, m in wanted - have)
        assert not missing, (
            f"{language}: {len(missing)} strings missing from the catalogue "
            f"(run makemessages and translate), e.g. {missing[:5]}"
        )
