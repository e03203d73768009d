"""`vault retention status`, `vault hold add|release`, `vault holds` (`vault engagement
retention` lives with the engagement verbs).

Status prints each item's destruction date, the days left by the vault's clock, and the holds
covering it; an engagement without a completion date says "not due: no completion date".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vault.cli.base import Command
from vault.cli.termout import plural, safe, table

if TYPE_CHECKING:
    from vault.service.retention import HoldView, RetentionRow


def _days(r: RetentionRow) -> str:
    if r.days_left is None:
        return "-"
    return "due" if r.days_left <= 0 else str(r.days_left)


def _hold_line(v: HoldView) -> tuple[str, ...]:
    h = v.hold
    return (h.id[:12], safe(v.engagement), h.item_id[:12] if h.item_id else "(all items)",
            f"{h.placed_at:%Y-%m-%d} {safe(v.placed_by)}",
            "active" if v.active else f"released {h.released_at:%Y-%m-%d} "
                                      f"{safe(v.released_by or '-')}",
            safe(h.reason))


class Retention(Command):
    VERBS = ("retention", "hold", "holds")

    def retention(self) -> int:
        a = self.args
        rows = self.open().retention_status(a.engagement, upcoming=a.upcoming)

        def human() -> None:
            if not rows:
                print("nothing due within that time" if a.upcoming is not None
                      else "no evidence")
                return
            table([("ITEM", "ENGAGEMENT", "NAME", "DESTROY ON", "DAYS LEFT", "HOLDS", "NOTE")]
                  + [(r.item_id[:12], safe(r.engagement), safe(r.name or "-"),
                      r.due.date().isoformat() if r.due else "-", _days(r),
                      ",".join(h[:8] for h in r.holds) or "-", r.note) for r in rows],
                  header=True)
            print(plural(len(rows), "item"))
        self.out([r.as_dict() for r in rows], human)
        return 0

    def hold(self) -> int:
        a, v = self.args, self.open()
        if a.hcmd == "add":
            h = v.place_hold(a.target, a.reason)
            what = f"item {h.hold.item_id[:12]}" if h.hold.item_id else "every item"
            self.out(h.as_dict(), lambda: print(
                f"hold {h.hold.id[:12]} placed on {what} of {safe(h.engagement)}"))
        else:
            h = v.release_hold(a.hold, a.reason)
            self.out(h.as_dict(), lambda: print(f"hold {h.hold.id[:12]} released"))
        return 0

    def holds(self) -> int:
        a = self.args
        rows = self.open().holds(a.engagement, include_released=a.all)
        self.out([h.as_dict() for h in rows], lambda: table(
            [("HOLD", "ENGAGEMENT", "COVERS", "PLACED", "STATE", "REASON")]
            + [_hold_line(h) for h in rows], header=True) if rows else print("no holds"))
        return 0
