from django.apps import AppConfig


class RupturesConfig(AppConfig):
    name = "ruptures"
    verbose_name = "Ruptures and repairs"
