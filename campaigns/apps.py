from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"

    def ready(self) -> None:
        # Registers the app's Celery tasks in every process, not only in workers: the services
        # hand work over by the task's name (attackacrack.celery.hand_to_worker).
        from campaigns import tasks  # noqa: F401
        from contacts import lawful_basis

        lawful_basis.changed.connect(_reconsider, dispatch_uid="campaigns.reconsider_on_lawful_basis")


def _reconsider(sender, *, contact_ids: list[int], now, **kwargs) -> None:
    """A contact's lawful basis changed: members a rule kept out for its lack are judged again."""
    from campaigns import audience

    audience.reconsider(contact_ids=contact_ids, now=now)
