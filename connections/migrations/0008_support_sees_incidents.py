"""The Support group sees exchange incidents and their timelines (read-only admin)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = ["exchangeincident", "incidentevent"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("connections")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Support").first()
    if group is None:
        return
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="connections", codename__in=[f"view_{m}" for m in VIEW]
        )
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Support").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="connections", codename__in=[f"view_{m}" for m in VIEW]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0007_outages_incidents_key_expiry"),
        ("users", "0002_support_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
