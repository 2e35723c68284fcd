"""Emails in lower case (issue 14): lower the stored ones, then let the database enforce it.

Accounts made by createsuperuser or create_support_user kept capitals in the part before the
"@", which allauth's exact lookups missed. Two accounts that differ only in case cannot be
merged automatically; the migration stops and names them so an operator decides.
"""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models.functions import Lower


def lower_emails(apps, schema_editor):
    User = apps.get_model("users", "User")
    clashes = (
        User.objects.annotate(lowered=Lower("email"))
        .values("lowered")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .values_list("lowered", flat=True)
    )
    if clashes:
        raise RuntimeError(
            "These addresses belong to more than one account when case is ignored; merge or "
            "rename them, then migrate again: " + ", ".join(sorted(clashes))
        )
    # The database's own LOWER, the very function the constraint below checks against.
    User.objects.exclude(email=Lower("email")).update(email=Lower("email"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("users", "0003_encrypt_two_factor_secrets"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(
                default=False,
                help_text="Set for a one-time password; the next login must choose a new one.",
                verbose_name="must change password",
            ),
        ),
        migrations.RunPython(lower_emails, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("email", django.db.models.functions.text.Lower("email"))),
                name="users_user_email_lower_case",
            ),
        ),
    ]
