"""Reviewing PII and card-data flags: flags, flag resolve."""

from __future__ import annotations

from vault.cli.base import Command
from vault.cli.termout import safe, table


class Review(Command):
    VERBS = ("flags", "flag")

    def flags(self) -> int:
        a = self.args
        views = self.open().flags(a.engagement, open_only=a.open, item=a.item, kind=a.kind)
        self.out([f.as_dict() for f in views], lambda: table(
            [("FLAG", "STATE", "KIND", "VALUE", "WHERE", "SEEN", "ITEM", "NAME")]
            + [(f.flag.id[:12], f.flag.state, f.flag.kind, safe(f.shown),
                safe(f.where), str(f.flag.occurrences),
                f.flag.item_id[:12], safe(f.item_name)) for f in views], header=True))
        return 0

    def flag(self) -> int:
        a = self.args
        r = self.open().resolve_flag(a.flag, a.decision, a.reason)
        data = {"resolved": [f.as_dict() for f in r.flags], "item_state": r.item_state,
                "redacted_version": r.redacted_version}

        def human() -> None:
            for f in r.flags:
                print(f"{f.flag.id[:12]} {f.flag.kind} {safe(f.flag.masked)}: {f.flag.state}")
            if r.redacted_version:
                print(f"redacted version {r.redacted_version[:12]}; original crypto-shredded")
            else:
                print(f"item is {r.item_state}")
        self.out(data, human)
        return 0
