"""The "Support" group: view everything support needs, run tests, pause strategies; nothing more.

Support staff cannot add connections, edit their credentials or delete them: those permissions
are simply not in the group.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    ("users", "user"),
    ("connections", "connection"),
    ("connections", "connectioncheck"),
    ("connections", "auditevent"),
    ("strategies", "strategy"),
]
EXTRA = [("connections", "run_connection_test"), ("connections", "pause_strategies")]


def create_support_group(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Support")
    perms = [
        Permission.objects.get(content_type__app_label=app, codename=f"view_{model}")
        for app, model in VIEW
    ] + [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in EXTRA]
    group.permissions.set(perms)


def remove_support_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Support").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("connections", "0002_support_permissions"),
        ("strategies", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_support_group, remove_support_group)]
