from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self) -> None:
        # Registers the app's Celery tasks in every process, not only in workers: the services
        # hand work over by the task's name (attackacrack.celery.hand_to_worker).
        from messaging import tasks  # noqa: F401
