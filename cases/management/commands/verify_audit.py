"""``manage.py verify_audit``: recompute the access-event hash chains.

Exit status 0 and ``OK`` with the counts when every chain is intact; otherwise each broken
chain's first broken row (event id, practice, what is wrong) and exit status 1. Each chain's
head hash is printed too: kept outside the database (a ticket, a signed e-mail), it lets a
later run prove that the chain was not rebuilt wholesale since.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.audit import ChainReport, verify_chains

BROKEN = "The audit log is broken in {broken} of {chains} chains; see above."


def _chain_name(chain: ChainReport) -> str:
    return "no practice" if chain.practice_id is None else f"practice {chain.practice_id}"


class Command(BaseCommand):
    help = "Recompute the access-event hash chains and name the first broken row of each."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chains()
        broken = [chain for chain in report.chains if not chain.intact]
        for chain in report.chains:
            if chain.intact:
                self.stdout.write(
                    f"{_chain_name(chain)}: {chain.events} events, intact, head {chain.head_hash}"
                )
                continue
            where = (
                f"event {chain.broken_event_id} (seq {chain.broken_seq})"
                if chain.broken_event_id is not None
                else "its end"
            )
            self.stdout.write(
                self.style.ERROR(f"{_chain_name(chain)}: BROKEN at {where}: {chain.problem}")
            )
        if broken:
            raise CommandError(BROKEN.format(broken=len(broken), chains=len(report.chains)))
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {len(report.chains)} chains, {report.events} events, every hash verified."
            )
        )
