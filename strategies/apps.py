from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StrategiesConfig(AppConfig):
    name = "strategies"
    verbose_name = _("Strategies")

    def ready(self) -> None:
        # Strategies react to their connections through the hook `connections` offers.
        from connections import hooks
        from strategies import services

        hooks.listen(services.strategies_on_connection_event)
