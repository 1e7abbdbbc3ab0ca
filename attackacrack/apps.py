from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AttackACrackConfig(AppConfig):
    name = "attackacrack"
    verbose_name = "Attack-a-Crack"

    def ready(self) -> None:
        from attackacrack import lookups, roles

        lookups.register()

        # post_migrate is sent once per app (and after every flush of a test database); Django
        # creates each app's permissions on its own signal, so the groups are synced once, on
        # the last app's, when every permission exists.
        last_app = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
        post_migrate.connect(roles.sync_groups, sender=last_app, dispatch_uid="attackacrack.roles.sync_groups")
