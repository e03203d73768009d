"""`vault destroy --due [--dry-run] [--limit N]`: the destruction job's one verb.

Only the ``destruction-job`` firm role may run it; the time is the system clock's (there is no
option to pretend another date). With --dry-run it lists what is due and changes nothing.
"""

from __future__ import annotations

from vault.cli.base import Command
from vault.cli.termout import plural, table


class Destroy(Command):
    VERBS = ("destroy",)

    def destroy(self) -> int:
        a = self.args
        report = self.open().destroy_due(dry_run=a.dry_run, limit=a.limit)

        def human() -> None:
            if report.dry_run:
                print(f"due now: {plural(report.due, 'item')}"
                      + (f" (showing {len(report.items):,})" if a.limit else "")
                      + f"; held by a legal hold: {plural(report.held, 'item')}")
                table([("ITEM", "ENGAGEMENT", "DUE SINCE", "SIZE")] + [
                    (i.id, i.engagement_id,
                     i.destruction_due.date().isoformat() if i.destruction_due else "-",
                     str(i.size)) for i in report.items], header=True)
                return
            purged = sum(1 for i in report.items if i.method.endswith("purge"))
            print(f"run {report.run_id}: destroyed {plural(purged, 'item')}, "
                  f"{plural(len(report.pending), 'item')} shredded with the purge pending "
                  f"(object lock), {plural(report.held, 'item')} held; "
                  f"{plural(len(report.engagements_destroyed), 'engagement')} destroyed")
            for p in report.pending:
                until = p.locked_until.isoformat() if p.locked_until else "unknown"
                print(f"pending purge: {p.id} (locked until {until})")
            if report.certificate_id:
                print(f"certificate {report.certificate_id} "
                      f"(`vault certificate show {report.certificate_id}`)")
        self.out(report.as_dict(), human)
        return 0
