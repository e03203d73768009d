"""Verbs about disclosure and export: disclosure set, item set (ROC references), recipient
add|list|remove, export, exports."""

from __future__ import annotations

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
        raise NotImplementedError

    def exports(self) -> int:
        raise NotImplementedError
