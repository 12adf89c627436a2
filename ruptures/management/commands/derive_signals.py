"""Derive the time-based signals of every practice now, as the worker does each morning."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ruptures.services import signals_derive_daily


class Command(BaseCommand):
    help = (
        "Raise the signals that time alone brings about (an episode left without a repair "
        "attempt longer than its practice allows), for every practice, as of its local date. "
        "Signals already raised are left as they are, so running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        raised = signals_derive_daily(at=timezone.now(), every_hour=True)
        self.stdout.write(self.style.SUCCESS(f"{raised} signal(s) raised."))
