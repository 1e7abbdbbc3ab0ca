from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print the API token of a staff user, creating the user (staff, no password) if needed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Replace the user's existing token")

    def handle(self, *args, username: str, rotate: bool, **options) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            self.stderr.write(f"Created staff user {username!r} (set a password with changepassword).")
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            self.stderr.write(f"Made {username!r} a staff user: the API is for staff only.")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        # The token alone on stdout, so scripts can capture it: TOKEN=$(manage.py create_api_token me)
        self.stdout.write(token.key)
