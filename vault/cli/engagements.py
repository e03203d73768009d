"""`vault engagement create|list|show|complete|retention`."""

from __future__ import annotations

from vault.cli.base import Command
from vault.cli.termout import safe, table


class Engagements(Command):
    VERBS = ("engagement",)

    def engagement(self) -> int:
        from vault.service import engagement_dict
        v, a = self.open(), self.args
        if a.ecmd == "create":
            e = v.create_engagement(a.name, client=a.client, standard=a.standard,
                                    period_start=a.period_start, period_end=a.period_end)
            self.out(engagement_dict(e), lambda: print(f"created engagement {safe(e.name)}"
                                                       f" ({e.id[:8]})"))
        elif a.ecmd == "list":
            rows = v.list_engagements()
            self.out([engagement_dict(e, n) for e, n in rows], lambda: table(
                [("NAME", "CLIENT", "STANDARD", "COMPLETED", "ITEMS")]
                + [(safe(e.name), safe(e.client), e.standard, str(e.completed_on or "-"),
                    str(n)) for e, n in rows], header=True))
        elif a.ecmd == "show":
            e, n = v.engagement(a.engagement)
            d = engagement_dict(e, n)
            self.out(d, lambda: table([(k, safe(str(val))) for k, val in d.items()]))
        elif a.ecmd == "retention":
            e = v.set_retention(a.engagement, a.years)
            self.out(engagement_dict(e), lambda: print(
                f"engagement {safe(e.name)} keeps its evidence {e.retention_years} years after "
                "completion"))
        else:
            e = v.complete_engagement(a.engagement, a.date)
            self.out(engagement_dict(e), lambda: print(
                f"engagement {safe(e.name)} completed on {e.completed_on}"))
        return 0
