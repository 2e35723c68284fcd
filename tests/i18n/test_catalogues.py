"""Every language's catalogue is complete, current, compiled and counts plurals correctly.

- complete: no untranslated and no fuzzy entries;
- current: every translatable string in the code and templates is in the catalogue, and the
  catalogue holds nothing else (makemessages is run into a scratch copy and compared);
- compiled: the committed .mo matches its .po, so a fresh machine needs no gettext;
- plurals: each language's Plural-Forms picks the form its grammar needs ("1 test", "2 testy",
  "5 testów" in Polish), checked on sample counts against the rules in CLDR.
"""

from __future__ import annotations

import gettext as gettext_module
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from tests.conftest import services_required

ROOT = Path(settings.BASE_DIR)
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def catalogue(language: str) -> polib.POFile:
    folder = translation.to_locale(language)
    return polib.pofile(str(ROOT / "locale" / folder / "LC_MESSAGES" / "django.po"))


def test_every_language_of_the_site_has_a_catalogue():
    site = [
        "ar",
        "bg",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fi",
        "fr",
        "hr",
        "hu",
        "it",
        "lt",
        "lv",
        "nl",
        "no",
        "pl",
        "pt",
        "ro",
        "sk",
        "sl",
        "sr",
        "sv",
        "tr",
    ]
    # The site's "no" is Bokmål ("nb") and its Serbian is written in Latin script ("sr-latn").
    ours = {"nb": "no", "sr-latn": "sr"}
    assert sorted(ours.get(code, code) for code, _name in settings.LANGUAGES) == site
    for language in LANGUAGES:
        assert (ROOT / "locale" / translation.to_locale(language) / "LC_MESSAGES").is_dir()


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
    folder = translation.to_locale(language)
    mo = polib.mofile(str(ROOT / "locale" / folder / "LC_MESSAGES" / "django.mo"))
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
            # The strings are the same for every language: one scratch catalogue to compare.
            "--locale=de",
        ],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(scratch / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    wanted = {(e.msgctxt, e.msgid, e.msgid_plural) for e in fresh if not e.obsolete}
    for language in LANGUAGES:
        po = catalogue(language)
        have = {(e.msgctxt, e.msgid, e.msgid_plural) for e in po if not e.obsolete}
        missing = sorted(m for _, m, _p in wanted - have)
        stale = sorted(m for _, m, _p in have - wanted) + [e.msgid for e in po if e.obsolete]
        assert not missing, (
            f"{language}: {len(missing)} strings missing from the catalogue "
            f"(run makemessages and translate), e.g. {missing[:5]}"
        )
        assert not stale, f"{language}: {len(stale)} stale entries, e.g. {stale[:5]}"


# Which plural form each count takes (the form's index in the catalogue), from CLDR's
# cardinal rules for integers as gettext numbers them. Languages with one form for 1 and
# another for everything else are checked as such; French and Turkish also use the "one"
# form for 0.
_TWO = {0: 1, 1: 0, 2: 1, 5: 1, 21: 1, 101: 1}
PLURALS = {
    "ar": {0: 0, 1: 1, 2: 2, 3: 3, 10: 3, 11: 4, 99: 4, 100: 5, 102: 5, 103: 3, 111: 4},
    "cs": {1: 0, 2: 1, 4: 1, 5: 2, 0: 2, 22: 2, 101: 2},
    "sk": {1: 0, 2: 1, 4: 1, 5: 2, 0: 2, 22: 2, 101: 2},
    "pl": {1: 0, 2: 1, 4: 1, 5: 2, 12: 2, 21: 2, 22: 1, 0: 2, 112: 2, 122: 1},
    "hr": {1: 0, 21: 0, 11: 2, 2: 1, 24: 1, 12: 2, 5: 2, 0: 2},
    "sr-latn": {1: 0, 21: 0, 11: 2, 2: 1, 24: 1, 12: 2, 5: 2, 0: 2},
    "lt": {1: 0, 21: 0, 11: 2, 2: 1, 9: 1, 22: 1, 10: 2, 12: 2, 0: 2},
    "lv": {0: 2, 1: 0, 21: 0, 11: 1, 2: 1, 10: 1, 111: 1},
    "ro": {1: 0, 0: 1, 2: 1, 19: 1, 20: 2, 100: 2, 101: 1, 120: 2},
    "sl": {1: 0, 101: 0, 2: 1, 102: 1, 3: 2, 4: 2, 5: 3, 0: 3, 11: 3},
    "fr": {0: 0, 1: 0, 2: 1, 5: 1},
    "tr": {0: 0, 1: 0, 2: 1, 5: 1},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_follow_the_languages_grammar(language):
    po = catalogue(language)
    header = po.metadata["Plural-Forms"]
    expected = PLURALS.get(language, _TWO)
    nplurals = max(expected.values()) + 1
    assert f"nplurals={nplurals};" in header.replace(" ", "")
    plural = gettext_module.c2py(header.split("plural=", 1)[1].rstrip(";"))
    assert {n: plural(n) for n in expected} == expected
    for entry in po:
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == nplurals, entry.msgid
            assert all(entry.msgstr_plural.values()), entry.msgid


_PLACEHOLDER = re.compile(r"%\([a-zA-Z0-9_]+\)[sdf]|%[sdf]|\{[a-zA-Z0-9_]*\}")
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_ATTRIBUTE = re.compile(r"\b(?:href|class|id|target|rel)=\"[^\"]*\"")
# Names a translation must carry over as they are ("Recovery Mode" stays English on the site).
_NAMES = ("MEXC", "KuCoin", "Binance", "OKX", "Bybit", "Bitget", "HTX", "BingX", "Coinbase")
_NAMES += ("BackFuture", "Recovery Mode", "USDT")


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_markup_and_names(language):
    """A translation that drops a placeholder, breaks a link or renames an exchange would
    show the person a wrong page; msgfmt only checks the entries it knows are formats."""
    problems = []
    for entry in catalogue(language).translated_entries():
        if entry.msgid_plural:
            pairs = [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, text in pairs:
            if not entry.msgid_plural and sorted(_PLACEHOLDER.findall(source)) != sorted(
                _PLACEHOLDER.findall(text)
            ):
                problems.append(("placeholders", entry.msgid))
            if sorted(_TAG.findall(source)) != sorted(_TAG.findall(text)):
                problems.append(("tags", entry.msgid))
            if sorted(_ATTRIBUTE.findall(source)) != sorted(_ATTRIBUTE.findall(text)):
                problems.append(("attributes", entry.msgid))
            problems += [
                ("name " + name, entry.msgid)
                for name in _NAMES
                if name in source and name not in text
            ]
    assert not problems, f"{language}: {len(problems)} problems, e.g. {problems[:5]}"
