"""HTX's part of the key guide and the form: HTX's own names for its credentials."""

from __future__ import annotations

from django.urls import reverse

from connections.exchanges import registry
from connections.forms import CredentialsMixin
from tests.connections.test_page_content import new_form, steps


def test_htx_form_names_the_access_key_and_links_api_management(alice_client):
    html = new_form(alice_client, "htx")
    assert "Access Key" in html
    assert "Secret Key" in html
    assert "HTX shows the Secret Key only once" in html
    assert 'href="https://www.htx.com/apikey/"' in steps(html)
    assert "Leave Withdraw unticked" in html
    assert "stops working after 90 days" in html
    # HTX describes a parent key's withdrawal permission but not a sub-account key's: the
    # person confirms it is off, so a sub-account key can still pass the strategy gate.
    assert "withdrawal_off_confirmed" in html


def test_other_exchanges_keep_the_generic_labels(alice_client):
    html = new_form(alice_client, "mexc")
    assert "Access Key" not in html
    assert "API key" in html


def test_credentials_labels_come_from_the_guide():
    class Form(CredentialsMixin):
        spec = registry.get("htx")

        def __init__(self):
            self.fields = {}

    form = Form()
    form.add_credential_fields()
    assert str(form.fields["api_key"].label) == "Access Key"
    assert str(form.fields["api_secret"].label) == "Secret Key"
    assert "never shown again" in str(form.fields["api_secret"].help_text)


def test_htx_card_in_the_picker(alice_client):
    html = alice_client.get(reverse("connections:new")).content.decode()
    assert 'id="exchange-card-htx"' in html
