"""``manage.py purge_expired``: remove client records past their retention period.

Dry run by default: lists what would go. ``--execute`` removes it, one client per transaction,
each with an access event written first. Legal holds are never purged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ruptures.retention import expired_records, purge, record_preview


class Command(BaseCommand):
    help = "Remove client records past their practice's retention period (dry run by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--execute", action="store_true", help="Really delete.")
        parser.add_argument("--practice", help="Only this practice (its slug).")
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            help="Judge expiry as of this date (YYYY-MM-DD); default today.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        records = expired_records(today=options["today"], practice=options["practice"])
        verb = "Purging" if options["execute"] else "Would purge (dry run; --execute to delete)"
        self.stdout.write(f"{verb}: {len(records)} client record(s) past retention.")
        for record in records:
            self.stdout.write(
                f"  {record.practice:<24} {record.code:<10} last service {record.last_service}"
            )
        if not options["execute"]:
            record_preview(records)
            return
        rows = sum(purge(record) for record in records)
        self.stdout.write(self.style.SUCCESS(f"Deleted {rows} rows of {len(records)} clients."))
