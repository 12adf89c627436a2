"""Django signals the cases app sends, so that apps above it can react without cases
importing them (ruptures derives rupture signals when a measure is recorded)."""

from django.dispatch import Signal

# Sent inside the recording transaction with ``measure`` (the saved measure instance).
measure_recorded = Signal()
