from typing import Any

from django.dispatch import receiver

from cases.signals import measure_recorded
from ruptures.services import signals_derive_for_measure


@receiver(measure_recorded, dispatch_uid="ruptures.derive_signals_for_measure")
def derive_signals_for_measure(sender: type, measure: Any, **kwargs: Any) -> None:
    signals_derive_for_measure(measure=measure)
