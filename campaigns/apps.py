from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"

    def ready(self) -> None:
        # Registers the app's Celery tasks in every process, not only in workers: the services
        # hand work over by the task's name (attackacrack.celery.hand_to_worker).
        from campaigns import tasks  # noqa: F401
