"""Verbs about disclosure and export: disclosure set, item set (ROC references), recipient
add|list|remove, export, exports."""

from __future__ import annotations

import contextlib
from typing import Any

from vault.cli.base import Command
from vault.cli.termout import safe, table


def recipient_dict(r: Any) -> dict[str, Any]:
    from vault.export.refs import short
    return {"id": r.id, "name": r.name, "type": r.type, "client": r.client,
            "age_recipient": r.age_recipient, "fingerprint": r.fingerprint,
            "fingerprint_short": short(r.fingerprint), "created_at": r.created_at.isoformat()}


class Exports(Command):
    VERBS = ("disclosure", "item", "recipient", "export", "exports")

    def disclosure(self) -> int:
        a = self.args
        it = self.open().set_disclosure(a.item, a.level, a.reason)
        self.out({"id": it.id, "disclosure": it.disclosure},
                 lambda: print(f"{it.id[:12]}  disclosure {it.disclosure}"))
        return 0

    def item(self) -> int:
        a = self.args
        refs = self.open().set_roc_refs(a.item, a.roc_ref, a.drop_roc_ref)
        self.out({"id": a.item, "roc_refs": refs},
                 lambda: print(f"{safe(a.item)}  ROC references: "
                               + (", ".join(refs) if refs else "none")))
        return 0

    def recipient(self) -> int:
        return {"add": self._add, "list": self._list, "remove": self._remove}[self.args.rcmd]()

    def _add(self) -> int:
        from vault.export.refs import short
        a = self.args
        r = self.open().add_recipient(a.name, a.type, a.age_recipient, a.client)
        self.out(recipient_dict(r), lambda: print(
            f"added {r.type} recipient {safe(r.name)}"
            + (f" (client {safe(r.client)})" if r.client else "")
            + f"\nfingerprint (SHA-256 of its age recipient): {short(r.fingerprint)}"
            + "\ncompare it with the recipient's own, out of band"))
        return 0

    def _list(self) -> int:
        from vault.export.refs import short
        rows = self.open().list_recipients()
        self.out([recipient_dict(r) for r in rows], lambda: table(
            [("NAME", "TYPE", "CLIENT", "FINGERPRINT", "AGE RECIPIENT")]
            + [(safe(r.name), r.type, safe(r.client or "-"), short(r.fingerprint),
                r.age_recipient) for r in rows], header=True) if rows
            else print("no export recipients: an administrator adds them with "
                       "`vault recipient add`"))
        return 0

    def _remove(self) -> int:
        self.open().remove_recipient(self.args.name)
        self.out({"removed": self.args.name},
                 lambda: print(f"removed recipient {safe(self.args.name)}"))
        return 0

    def export(self) -> int:
        from vault.cli.termout import Progress, plural
        from vault.service.exports import Scope
        a = self.args
        scope = Scope(roc_refs=tuple(a.roc_ref), requirements=tuple(a.req),
                      kinds=tuple(a.kind), since=a.since, until=a.until, items=tuple(a.item))
        v = self.open()
        if a.dry_run:
            r = v.export(a.engagement, to=a.to, request_ref=a.request_ref, output=a.output,
                         scope=scope, dry_run=True)
        else:
            with contextlib.ExitStack() as stack:
                bars: list[Progress] = []

                def planned(plan: Any) -> None:  # the bar's total: what will go
                    bars.append(stack.enter_context(Progress.maybe(
                        sum(i.size for i in plan.included), len(plan.included),
                        enabled=not self.json)))

                def progress(n: int) -> None:
                    if bars:
                        bars[0].advance(n)
                r = v.export(a.engagement, to=a.to, request_ref=a.request_ref,
                             output=a.output, scope=scope, force=a.force,
                             progress=progress, on_plan=planned)

        def human() -> None:
            if r.included:
                print(("would include " if r.dry_run else "included ")
                      + plural(len(r.included), "file") + ":")
                table([(i.item_id[:12], plural(i.size, "byte"), safe(i.path))
                       for i in r.included])
            if r.withheld:
                print(("would withhold " if r.dry_run else "withheld ")
                      + plural(len(r.withheld), "item") + ":")
                table([(w.item_id[:12], safe(w.name), safe(w.reason)) for w in r.withheld])
            if r.coverage:
                print("coverage:")
                table([(safe(q), k, safe(ans)) for q, k, ans in r.coverage])
            if not r.dry_run:
                print(f"wrote {safe(str(r.output))} ({plural(r.bundle_size or 0, 'byte')}, "
                      f"age-encrypted to {safe(r.recipient)})\nbag {safe(r.bag_name)}; "
                      f"bundle sha256 {r.bundle_sha256}")
        self.out(r.as_dict(), human)
        return 0

    def exports(self) -> int:
        rows = self.open().exports(self.args.engagement)
        data = [{"id": e.id, "recipient": e.recipient, "recipient_type": e.recipient_type,
                 "request_ref": e.request_ref, "bag": e.bag_name,
                 "bundle_sha256": e.bundle_sha256, "bundle_size": e.bundle_size,
                 "items": e.items, "withheld": e.withheld,
                 "created_at": e.created_at.isoformat()} for e in rows]
        self.out(data, lambda: table(
            [("DATE", "RECIPIENT", "REQUEST", "FILES", "WITHHELD", "BUNDLE SHA-256")]
            + [(f"{e.created_at:%Y-%m-%d %H:%M}", safe(e.recipient), safe(e.request_ref),
                str(e.items), str(e.withheld), e.bundle_sha256[:16]) for e in rows],
            header=True) if rows else print("no exports yet"))
        return 0
