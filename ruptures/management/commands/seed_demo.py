"""``manage.py seed_demo``: the demo practice, with printed logins.

Re-running is safe: if the demo practice (slug ``riverside-counselling``) exists, the command
says so, prints the logins and exits 0 without writing; ``--reset`` deletes the demo practice
(its clinical data and its staff) and builds it again, in one transaction.

``--scale 1`` (the default) is a small demo that builds in seconds; ``--scale reference``
(≈ 133.3) builds DESIGN.md's reference data set: 200 clinicians, 20,000 clients, about a
million sessions. ``--seed`` makes the data reproducible; ``--today`` pins the date the
history is built back from, so the same seed gives the same rows on any day.
"""

from __future__ import annotations

import datetime as dt
import sys
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.choices import Role
from cases.models import Membership, Practice
from ruptures.demo import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    REFERENCE_SCALE,
    SeedResult,
    UsernameTaken,
    parse_scale,
    seed_demo,
)
from ruptures.demo.vocabulary import HEADLINE_STAFF

# Beyond the headline logins, how many more to list before summarising.
LISTED_LOGINS = 12
# Logins are listed admins first, then supervisors (there are few), then clinicians; a login's
# roles read clinician first ("clinician, supervisor").
ROLE_ORDER = (Role.PRACTICE_ADMIN, Role.SUPERVISOR, Role.CLINICIAN)
ROLE_DISPLAY = (Role.CLINICIAN, Role.SUPERVISOR, Role.PRACTICE_ADMIN)


def _scale(value: str) -> float:
    try:
        return parse_scale(value)
    except ValueError as error:
        raise ArgumentTypeError(f"{value!r}: {error}") from error


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from error


class Command(BaseCommand):
    help = "Create the demo practice with realistic clinical data and print the demo logins."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--scale",
            type=_scale,
            default=1.0,
            help=(
                "Size multiplier (default 1: 12 clinicians, 150 clients, ~9 months). "
                f"'reference' (= {REFERENCE_SCALE:.1f}) builds DESIGN.md's reference data set."
            ),
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Random seed (same seed, same data)."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo practice (data and staff) first, then build it again.",
        )
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help="Build the history back from this date instead of today (YYYY-MM-DD).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show the progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        progress = not options["no_progress"] and verbosity > 0 and sys.stderr.isatty()
        try:
            result = seed_demo(
                scale=options["scale"],
                seed=options["seed"],
                reset=options["reset"],
                today=options["today"],
                progress=progress,
            )
        except UsernameTaken as error:
            raise CommandError(str(error)) from error
        if verbosity == 0:
            return
        if result.created:
            self._report(result, phases=verbosity >= 2)
        else:
            self.stdout.write(
                f"The demo practice “{result.practice.name}” already exists; nothing changed. "
                "Run with --reset to build it again."
            )
        self._print_logins(result.practice)

    def _report(self, result: SeedResult, *, phases: bool) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Built the demo practice “{result.practice.name}” in {result.seconds:.1f} s."
            )
        )
        for table, count in result.counts.items():
            self.stdout.write(f"  {table:<34} {count:>10,}")
        self.stdout.write(f"  {'ruptures_rupturesignal':<34} {result.signals:>10,}")
        self.stdout.write(f"  {'trends months released':<34} {result.releases:>10,}")
        if phases:
            for phase, seconds in result.phases.items():
                self.stdout.write(f"  {phase:<34} {seconds:>9.1f}s")

    def _print_logins(self, practice: Practice) -> None:
        roles: dict[str, list[str]] = {}
        for username, role in (
            Membership.objects.filter(practice=practice, is_active=True)
            .order_by("user__username")
            .values_list("user__username", "role")
        ):
            roles.setdefault(username, []).append(role)
        headline = [name for name, *_ in HEADLINE_STAFF if name in roles]
        others = sorted(
            (name for name in roles if name not in headline),
            key=lambda name: (min(ROLE_ORDER.index(r) for r in roles[name]), name),
        )
        shown = headline + others[:LISTED_LOGINS]
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(f"Demo logins (password: {DEMO_PASSWORD})"))
        for name in shown:
            listed = ", ".join(sorted(roles[name], key=ROLE_DISPLAY.index))
            self.stdout.write(f"  {name:<24} {listed}")
        if len(others) > LISTED_LOGINS:
            self.stdout.write(
                f"  … and {len(others) - LISTED_LOGINS} more staff logins, same password."
            )
