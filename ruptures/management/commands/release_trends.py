"""Release every due month of every practice's trends, as the periodic task does."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.models import Practice
from ruptures.releases import BudgetExceeded, releasing_due


class Command(BaseCommand):
    help = (
        "Compute and store the differentially private trends release of every month that "
        "has closed and passed its practice's publication lag. Months already released are "
        "left as they are, so running it again changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--practice", type=int, default=None, help="Only this practice (its id)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        practices = Practice.objects.order_by("pk")
        if options["practice"] is not None:
            practices = practices.filter(pk=options["practice"])
            if not practices.exists():
                raise CommandError(f"No practice {options['practice']}.")
        made = 0
        try:
            # One at a time, each said as it is made: a first run backfills up to three years.
            for release in releasing_due(practices=list(practices)):
                made += 1
                self.stdout.write(
                    f"released {release.month:%Y-%m} of practice {release.practice_id}"
                )
        except BudgetExceeded as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"{made} month(s) released.")
            if made
            else "Nothing was due: every closed month is released."
        )
