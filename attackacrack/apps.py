from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AttackACrackConfig(AppConfig):
    name = "attackacrack"
    verbose_name = "Attack-a-Crack"

    def ready(self) -> None:
        from attackacrack import roles

        # After the permissions themselves, which Django creates after each migrate.
        post_migrate.connect(roles.sync_groups, dispatch_uid="attackacrack.roles.sync_groups")
