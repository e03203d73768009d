"""The vault and its object store: status, store check, doctor."""

from __future__ import annotations

from vault.cli.base import EXIT_FOUND, Command
from vault.cli.termout import safe, table


class Store(Command):
    VERBS = ("status", "store", "doctor")

    def status(self) -> int:
        st = self.open().status()
        st["home"] = str(self.settings.home)
        self.out(st, lambda: table([(k, safe(str(v))) for k, v in st.items()]))
        return 0

    def store(self) -> int:
        st = self.open().store_check()
        self.out(st, lambda: table([(k, safe(str(v))) for k, v in st.items()]))
        return 0

    def doctor(self) -> int:
        rep = self.open().doctor(repair=self.args.repair)
        problems = sum(len(rep[k]) for k in ("orphan_payloads", "missing_payloads",
                                              "stalled_ingests", "abandoned_uploads",
                                              "unfinished_writes", "plaintext_leftovers",
                                              "unprotected_items", "unheld_payloads",
                                              "stale_holds"))

        def human() -> None:
            for k, v in rep.items():
                for x in v:
                    print(f"{k.replace('_', ' ')}: {safe(str(x))}")
            print(f"{problems} problem{'' if problems == 1 else 's'} found"
                  + (f", {len(rep['repaired'])} repaired" if self.args.repair else ""))
        self.out(rep, human)
        return EXIT_FOUND if problems and not self.args.repair else 0
