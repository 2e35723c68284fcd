"""Create a support-staff account in the Support group (admin access, no secrets, no edits)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email


class Command(BaseCommand):
    help = "Create (or promote) a support-staff user and print a one-time password."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")

    def handle(self, *args, email: str, **options) -> None:
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not a valid email address.") from None
        group = Group.objects.get(name="Support")
        user_model = get_user_model()
        user = user_model.objects.filter(email__iexact=email).first()
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            # It was printed on a terminal: the first login must replace it.
            user = user_model.objects.create_user(
                email=email, password=password, must_change_password=True
            )
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(group)
        self.stdout.write(self.style.SUCCESS(f"{user.email} is support staff."))
        if password:
            self.stdout.write(
                f"One-time password: {password}  (at first login they confirm their email, "
                "choose a new password and set up two-factor authentication)"
            )
