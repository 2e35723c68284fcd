from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from backfuture.forms import ErrorFocusMixin
from connections import guides
from connections.exchanges import registry
from connections.exchanges.base import CheckName
from connections.models import Market

MALFORMED = {
    "api_key": _(
        "This does not look like a %(exchange)s API key. Copy it again from the exchange's API "
        "management page, without spaces or line breaks."
    ),
    "api_secret": _(
        "This does not look like a %(exchange)s secret key. Copy it again; the exchange shows it "
        "only once, so you may have to create a new key."
    ),
    "passphrase": _(
        "The passphrase cannot be empty or start or end with a space. It is the one you chose "
        "when you created the key on %(exchange)s."
    ),
}


# A private key (PEM) or a downloaded key file (JSON, Coinbase's cdp_api_key.json) pasted where
# the exchange expects its own key or secret: "copy it again" would send the person back to the
# same file.
KEY_FILE = {
    "api_key": _(
        "This looks like a private key or a key file, not a %(exchange)s API key. Copy the API "
        "key that %(exchange)s shows in its API management."
    ),
    "api_secret": _(
        "This looks like a private key or a key file, which %(exchange)s does not use. Paste "
        "the secret key %(exchange)s showed when you created the API key."
    ),
}


# The paper exchange has no API management page to copy from: its guide says what to type.
DEMO_MALFORMED = {
    "api_key": _('A demo key starts with "demo-", for example demo-key-1.'),
    "api_secret": _(
        "Type any secret of up to 128 characters without spaces, for example demo-secret-1."
    ),
}


def looks_like_key_file(value: str) -> bool:
    return "-----BEGIN" in value or value.lstrip().startswith("{")


def clean_name(value: str) -> str:
    name = " ".join(value.split())
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in name):
        raise forms.ValidationError(_("The name cannot contain control characters."))
    if not name:
        raise forms.ValidationError(_("Give the connection a name."))
    return name


class SecretInput(forms.PasswordInput):
    """A password input that never re-renders a submitted value, even on a form error."""

    def __init__(self, attrs=None):
        base = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}
        super().__init__(attrs={**base, **(attrs or {})}, render_value=False)


def carries_private_key(value: str) -> bool:
    """True for text holding a private key: a PEM (`PRIVATE KEY` lines, even with its spaces
    dropped) or a key file's `privateKey` field, whatever its case or spacing."""
    return "privatekey" in "".join(str(value).split()).lower()


def _shaped_like_secret_only(spec: registry.ExchangeSpec, value: str) -> bool:
    text = "".join(value.split())
    return bool(re.fullmatch(spec.secret_pattern, text)) and not re.fullmatch(
        spec.key_pattern, text
    )


class KeyInput(forms.TextInput):
    """The API key: visible while typing, and kept after a form error so only the secret has to
    be entered again. The key alone grants nothing (every call is signed with the secret), and
    pages show it masked; the answer that carries it is never stored (`never_cache` on the
    views). See docs/security.md, "Form errors keep the API key".

    What was typed into it is shown again only while it is no private key: a key file or a PEM
    pasted here (Coinbase's file holds both values; a PEM in the wrong field) is replaced by
    the key name the exchange's tidying finds in it, or by nothing."""

    def __init__(self, attrs=None, *, spec: registry.ExchangeSpec | None = None):
        base = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}
        super().__init__(attrs={**base, **(attrs or {})})
        self.spec = spec

    def format_value(self, value):
        value = super().format_value(value)
        if value is None:
            return value
        if self.spec is not None and _shaped_like_secret_only(self.spec, value):
            # The secret pasted into the key field (swapped fields, Coinbase's base64 key).
            return None
        if not carries_private_key(value):
            return value
        key = ""
        if self.spec is not None:
            try:
                key = self.spec.normalise_credentials(value, "", "")[0]
            except Exception:  # any failure: show nothing
                key = ""
        return key if key and not carries_private_key(key) else None


class CredentialsMixin:
    """Key, secret, passphrase and the withdrawal confirmation for one exchange."""

    spec: registry.ExchangeSpec

    def add_credential_fields(self) -> None:
        # The exchange's own names for its credentials, where its guide gives them (HTX:
        # "Access Key", Coinbase: "API key name").
        guide = guides.guide_for(self.spec.slug)
        secret_help = _("Encrypted as soon as you save. It is never shown again, to anyone.")
        if guide and guide.secret_help:
            secret_help = format_lazy("{} {}", guide.secret_help, secret_help)
        # Where pastes are tidied, one field may fill the other (a key file pasted whole):
        # emptiness is then judged after tidying, by `spec.validate`.
        fills_other = self.spec.normalise is not None
        # Such pastes need room (a PEM private key, a downloaded key file, Coinbase); the
        # registry's patterns judge the tidied values.
        self.fields["api_key"] = forms.CharField(
            label=(guide and guide.key_label) or _("API key"),
            max_length=4000 if fills_other else 200,
            required=not fills_other,
            widget=KeyInput(spec=self.spec),
        )
        self.fields["api_secret"] = forms.CharField(
            label=(guide and guide.secret_label) or _("Secret key"),
            max_length=4000 if fills_other else 300,
            required=not fills_other,
            widget=SecretInput(),
            help_text=secret_help,
        )
        if self.spec.needs_passphrase:
            self.fields["passphrase"] = forms.CharField(
                label=_("API passphrase"),
                max_length=128,
                strip=False,
                # Never re-rendered by the server; with JavaScript the browser keeps what was
                # typed across an htmx form error (static/js/app.js, `data-keep-typed`).
                widget=SecretInput(attrs={"data-keep-typed": True}),
                help_text=_("The passphrase you chose when you created the key on the exchange."),
            )
        if CheckName.WITHDRAWAL not in self.spec.verifies:
            self.fields["withdrawal_off_confirmed"] = forms.BooleanField(
                label=(guide and guide.withdrawal_confirm_label)
                or _("I confirm that withdrawal is disabled on this API key."),
                help_text=_(
                    "%(exchange)s's API cannot always tell whether a key may withdraw, so we "
                    "rely on your confirmation. Never give a trading bot withdrawal permission."
                )
                % {"exchange": self.spec.label},
                required=True,
                error_messages={
                    "required": _("Confirm that withdrawal is disabled on this key to continue.")
                },
            )

    def clean_credentials(self, cleaned_data: dict) -> dict:
        for field in ("api_key", "api_secret"):
            value = cleaned_data.get(field)
            if value is not None:
                # Pasting often brings a trailing newline or space; the exchange never does.
                cleaned_data[field] = value.strip()
        if cleaned_data.get("api_key") is not None and cleaned_data.get("api_secret") is not None:
            key, secret, phrase = self.spec.normalise_credentials(
                cleaned_data["api_key"],
                cleaned_data["api_secret"],
                cleaned_data.get("passphrase") or "",
            )
            cleaned_data["api_key"], cleaned_data["api_secret"] = key, secret
            if "passphrase" in cleaned_data:
                cleaned_data["passphrase"] = phrase
        passphrase = cleaned_data.get("passphrase", "")
        problems = self.spec.validate(
            cleaned_data.get("api_key", ""), cleaned_data.get("api_secret", ""), passphrase or ""
        )
        for field, problem in problems.items():
            if field not in self.fields or self.has_error(field):
                continue
            if problem == "malformed":
                self.add_error(field, self._malformed_text(field, cleaned_data.get(field) or ""))
            else:
                self.add_error(field, forms.Field.default_error_messages["required"])
        return cleaned_data

    def _malformed_text(self, field: str, value: str) -> str:
        guide = guides.guide_for(self.spec.slug)
        specific = {
            "api_key": guide and guide.key_malformed,
            "api_secret": guide and guide.secret_malformed,
        }.get(field)
        if self.spec.is_demo and field in DEMO_MALFORMED:
            return str(DEMO_MALFORMED[field])
        # Exchanges that take a PEM or a key file (those that tidy pastes: Binance, Coinbase)
        # word that case in their own message; for the others a key file is simply wrong.
        takes_key_files = self.spec.normalise is not None
        if field in KEY_FILE and looks_like_key_file(value) and not takes_key_files:
            return KEY_FILE[field] % {"exchange": self.spec.label}
        if specific:
            return str(specific)
        return MALFORMED[field] % {"exchange": self.spec.label}


class ConnectionCreateForm(ErrorFocusMixin, CredentialsMixin, forms.Form):
    name = forms.CharField(
        label=_("Connection name"),
        max_length=80,
        help_text=_("A clear name helps when you have several exchanges, accounts or strategies."),
    )
    market = forms.ChoiceField(label=_("Market"), widget=forms.RadioSelect)

    def __init__(self, *args, spec: registry.ExchangeSpec, **kwargs):
        self.spec = spec
        super().__init__(*args, **kwargs)
        self.fields["market"].choices = [(m.value, Market(m.value).label) for m in spec.markets]
        self.fields["market"].initial = spec.markets[0].value
        if spec.demo_environment:
            guide = guides.guide_for(spec.slug)
            self.fields["demo"] = forms.BooleanField(
                label=(guide and guide.demo_label)
                or _("This is a key of %(exchange)s's demo trading") % {"exchange": spec.label},
                help_text=(guide and guide.demo_help)
                or _(
                    "Tick it for a key you created in the exchange's demo (paper trading) mode: "
                    "it is tested against the demo servers, and the connection is marked "
                    '"demo". Demo keys do not work on the live exchange, nor live keys in demo.'
                ),
                required=False,
            )
        self.add_credential_fields()

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])

    def clean(self):
        return self.clean_credentials(super().clean())


class ReplaceKeyForm(ErrorFocusMixin, CredentialsMixin, forms.Form):
    def __init__(self, *args, spec: registry.ExchangeSpec, **kwargs):
        self.spec = spec
        super().__init__(*args, **kwargs)
        self.add_credential_fields()

    def clean(self):
        return self.clean_credentials(super().clean())


class RenameForm(ErrorFocusMixin, forms.Form):
    name = forms.CharField(label=_("Connection name"), max_length=80)

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])
