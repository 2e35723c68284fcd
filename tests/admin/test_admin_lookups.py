"""Every admin refuses changelist lookups on fields it does not filter by (issue 14, point 11).

Django accepts `?<any own field>__<any lookup>=` on a changelist, so a column the admin hides
(the key fingerprint, a password hash, two-factor data, ciphertext) could be recovered one
prefix at a time. The walk below covers every registered admin and every field of its model.
"""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.contrib.admin.filters import SimpleListFilter
from django.urls import reverse
from django.utils import timezone

from backfuture.admin_lookups import ShownLookupsOnlyMixin
from connections import services
from tests.conftest import passed_two_factor
from tests.connections.factories import make_connection
from tests.strategies.factories import stored_strategy

pytestmark = pytest.mark.django_db

# Lookups no admin filter ever produces: each one would let a prefix or pattern be probed.
PROBING = ("startswith", "istartswith", "contains", "icontains", "regex", "iregex", "endswith")
# What a filter would produce: refused too unless the admin filters by that field.
FILTERING = ("", "exact", "in", "gte", "lt", "isnull")


@pytest.fixture
def superuser_client(client, django_user_model):
    root = django_user_model.objects.create_superuser(email="root@example.com", password="x")
    TOTP.activate(root, generate_totp_secret())
    client.force_login(root)
    passed_two_factor(client, root)
    return client


@pytest.fixture
def data(alice):
    conn = make_connection(alice, exchange="kucoin", passphrase="canary-passphrase")
    services.connection_request_check(connection=conn, trigger="user", enqueue=False)
    stored_strategy(alice, conn, name="Grid")
    TOTP.activate(alice, generate_totp_secret())
    return conn


def filter_paths(model_admin) -> set[str]:
    paths = {model_admin.date_hierarchy} if model_admin.date_hierarchy else set()
    for item in model_admin.list_filter:
        if isinstance(item, type) and issubclass(item, SimpleListFilter):
            continue
        paths.add(item[0] if isinstance(item, (list, tuple)) else item)
    return paths


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def param(field: str, lookup: str) -> str:
    return f"{field}__{lookup}" if lookup else field


def test_every_registered_admin_uses_the_mixin():
    assert admin.site._registry
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ShownLookupsOnlyMixin), model._meta.label


def test_lookups_on_fields_an_admin_does_not_filter_by_are_refused(superuser_client, data):
    tried = 0
    for model, model_admin in admin.site._registry.items():
        url = changelist(model)
        assert superuser_client.get(url).status_code == 200, model._meta.label
        shown_filters = filter_paths(model_admin)
        for field in model._meta.concrete_fields:
            names = {field.name, field.attname}
            lookups = PROBING + (() if names & shown_filters else FILTERING)
            params = [param(name, lookup) for name in names for lookup in lookups]
            if field.is_relation:
                # Through the relation to the other model's hidden columns.
                for target in field.related_model._meta.concrete_fields:
                    params.append(f"{field.name}__{target.name}__startswith")
            for query in params:
                response = superuser_client.get(url, {query: "a"})
                tried += 1
                assert response.status_code == 400, (model._meta.label, query)
    assert tried > 500


def test_hidden_fingerprint_cannot_be_probed(superuser_client, data):
    url = changelist(type(data))
    prefix = data.key_fingerprint[:2]
    for query in ("key_fingerprint__startswith", "key_fingerprint", "key_fingerprint__exact"):
        response = superuser_client.get(url, {query: prefix})
        assert response.status_code == 400
        assert data.name.encode() not in response.content


def test_the_filters_an_admin_offers_still_work(superuser_client, data):
    for model, model_admin in admin.site._registry.items():
        url = changelist(model)
        for path in filter_paths(model_admin):
            response = superuser_client.get(url, {f"{path}__isnull": "False"})
            assert response.status_code == 200, (model._meta.label, path)
    audit = reverse("admin:connections_auditevent_changelist")
    assert (
        superuser_client.get(audit, {"created_at__year": str(timezone.now().year)}).status_code
        == 200
    )
    conn_url = changelist(type(data))
    response = superuser_client.get(conn_url, {"status__exact": "testing"})
    assert response.status_code == 200 and data.name.encode() in response.content
