from django.apps import AppConfig


class ContactsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "contacts"

    def ready(self) -> None:
        # Registers the app's Celery tasks in every process, not only in workers: the services
        # hand work over by the task's name (attackacrack.celery.hand_to_worker).
        from contacts import tasks  # noqa: F401
