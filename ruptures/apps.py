from django.apps import AppConfig


class RupturesConfig(AppConfig):
    name = "ruptures"
    verbose_name = "Ruptures and repairs"

    def ready(self) -> None:
        # Signals are derived whenever a measure is recorded; cases announces, ruptures listens.
        from ruptures import receivers  # noqa: F401
