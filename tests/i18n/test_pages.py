"""Each main page renders in German and in French, with the product's own vocabulary."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.strategies.factories import make_strategy, online_connection

pytestmark = pytest.mark.django_db

PAGES = {
    "de": [
        ("home", None, ["Verbindungen und Strategien", "Neue Strategie"]),
        ("connections:list", None, ["Verbindungen", "Verbindung hinzufügen"]),
        (
            "connections:new",
            {"exchange": "kucoin"},
            ["API-Schlüssel erstellen", "Verbindung speichern", "Passphrase"],
        ),
        ("connections:detail", "connection", ["Letzter Test", "Testverlauf", "Online"]),
        ("strategies:list", None, ["Strategien"]),
        ("strategies:new", None, ["Strategie speichern", "Recovery Mode"]),
        ("strategies:detail", "strategy", ["Nachkauf", "Durchschnittspreis"]),
        ("account", None, ["Zwei-Faktor-Authentifizierung"]),
    ],
    "fr": [
        ("home", None, ["Connexions et stratégies", "Nouvelle stratégie"]),
        ("connections:list", None, ["Connexions", "Ajouter une connexion"]),
        (
            "connections:new",
            {"exchange": "kucoin"},
            ["Créer la clé API", "Enregistrer la connexion", "passphrase"],
        ),
        (
            "connections:detail",
            "connection",
            # The status badge in French: tests/connections/test_page_content.py.
            ["Résultat du dernier test", "Historique des tests"],
        ),
        ("strategies:list", None, ["Stratégies"]),
        ("strategies:new", None, ["Enregistrer la stratégie", "Recovery Mode"]),
        ("strategies:detail", "strategy", ["renfort", "prix moyen"]),
        ("account", None, ["Authentification à deux facteurs"]),
    ],
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_main_pages_render_translated(alice, alice_client, language):
    connection = online_connection(alice, name="Main")
    strategy = make_strategy(alice, connection)
    objects = {"connection": connection.pk, "strategy": strategy.pk}
    alice.language = language
    alice.save(update_fields=["language"])
    for name, arg, phrases in PAGES[language]:
        if isinstance(arg, str):
            response = alice_client.get(reverse(name, args=[objects[arg]]))
        else:
            response = alice_client.get(reverse(name), arg or {})
        assert response.status_code == 200, name
        assert response.headers["Content-Language"] == language
        html = response.content.decode()
        for phrase in phrases:
            assert phrase in html, (language, name, phrase)


@pytest.mark.parametrize(
    ("language", "phrase"),
    [
        ("de", "Verbinden Sie Ihr Börsenkonto sicher mit einem Trading-Bot"),
        ("fr", "un bot de trading, en toute sécurité"),
    ],
)
def test_landing_page_follows_the_browser_language(client, language, phrase):
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert phrase in html
