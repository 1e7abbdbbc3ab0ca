from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

from attackacrack import roles


class Command(BaseCommand):
    help = (
        "Print the API token of a staff user, creating the user (no password) if needed. A new "
        "user, or one who is not staff, gets the --role given (staff unless told otherwise)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Replace the user's existing token")
        parser.add_argument("--role", choices=roles.ROLES, help="Give the user this role (default: staff)")

    def handle(self, *args, username: str, rotate: bool, role: str | None, **options) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if created or role or not user.is_staff:
            roles.assign_role(user, role or roles.STAFF)
            self.stderr.write(
                f"{username!r} is {role or roles.STAFF}"
                + (" (set a password with changepassword)." if created else ".")
            )
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        # The token alone on stdout, so scripts can capture it: TOKEN=$(manage.py create_api_token me)
        self.stdout.write(token.key)
