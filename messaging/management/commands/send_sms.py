from django.core.management.base import BaseCommand, CommandError

from attackacrack.errors import ApplicationError
from contacts.models import Contact
from contacts.phones import normalize_phone
from messaging import outbox, services


class Command(BaseCommand):
    help = "Send a one-to-one text to a contact (by phone, in any US spelling). Not a campaign send."

    def add_arguments(self, parser) -> None:
        parser.add_argument("phone")
        parser.add_argument("body")
        parser.add_argument("--now", action="store_true", help="Send in this process instead of by a worker")

    def handle(self, *args, phone: str, body: str, now: bool, **options) -> None:
        normalized = normalize_phone(phone)
        if normalized is None:
            raise CommandError(f"{phone!r} is not a valid phone number.")
        contact = Contact.objects.filter(phone=normalized).first()
        if contact is None:
            raise CommandError(f"No contact has the number {normalized}; add the contact first.")
        try:
            message = services.send_staff_text(contact=contact, body=body)
        except ApplicationError as error:
            raise CommandError(str(error)) from error
        if now:
            outcome = outbox.deliver_message(message.pk)
            message.refresh_from_db()
            self.stdout.write(
                f"Text {message.pk} to {normalized}: {outcome} ({message.status}). {message.error}".strip()
            )
        else:
            self.stdout.write(f"Text {message.pk} to {normalized} queued; a worker sends it.")
