from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from attackacrack import roles


class Command(BaseCommand):
    help = (
        "Give a user a role: owner (everything) or staff (conversations, contacts, campaigns), "
        "or none to end their staff sign-in."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=[*roles.ROLES, "none"])

    def handle(self, *args, username: str, role: str, **options) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r} (create one with createsuperuser or the admin).") from None
        roles.assign_role(user, None if role == "none" else role)
        became = {"owner": "an owner", "staff": "staff", "none": "not staff"}[role]
        self.stdout.write(f"{username} is now {became}.")
