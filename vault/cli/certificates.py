"""`vault certificates`, `vault certificate show|export`: destruction certificates.

`certificates [--engagement E]` lists them (administrators and the destruction job: all; an
engagement's leads and QA: those covering it); `certificate show ID` prints one (its signed
body, and whether the signature verifies); `certificate export ID -o DIR` writes what an
outsider needs to check it with openssl: CERT-ID.json (the signed bytes), CERT-ID.json.sig (the
raw signature) and firm.pem (the public key that signed it).
"""

from __future__ import annotations

import json

from vault.cli.base import Command
from vault.cli.termout import plural, safe, table


class Certificates(Command):
    VERBS = ("certificates", "certificate")

    def certificates(self) -> int:
        rows = self.open().certificates(self.args.engagement)
        self.out([c.as_dict() for c in rows], lambda: table(
            [("CERTIFICATE", "ISSUED", "RUN", "ITEMS", "ENGAGEMENTS")]
            + [(c.id, c.created_at.isoformat()[:19], safe(c.run_id[:16]), str(c.items),
                str(len(c.engagements))) for c in rows], header=True)
            if rows else print("no destruction certificates"))
        return 0

    def certificate(self) -> int:
        a, v = self.args, self.open()
        if a.certcmd == "export":
            done = v.export_certificate(a.id, a.output)
            self.out(done, lambda: print("wrote " + ", ".join(safe(f) for f in done["files"])))
            return 0
        shown = v.certificate(a.id, a.engagement)

        def human() -> None:
            info, doc = shown["certificate"], shown["body"]
            print(f"certificate {info['id']}, issued {info['created_at'][:19]}, run "
                  f"{safe(info['run_id'])}")
            print(f"by {safe(doc['sanitized_by']['job'])} "
                  f"({safe(doc['sanitization']['tool'])}), "
                  f"signing key {info['key_id'][:16]}…, signature "
                  + ("valid" if shown["signature_valid"] else "INVALID"))
            san = doc["sanitization"]
            print(f"{san['category']}: {plural(san['items'], 'item')} "
                  f"({san['purge_pending']} with purge pending), verification "
                  f"{doc['verification']['result']}")
            table([("ITEM", "ENGAGEMENT", "SHA-256", "SIZE", "VERSIONS", "VERIFIED")] + [
                (i["id"], i["engagement_id"], (i["sha256"] or "-")[:16] + "…", str(i["size"]),
                 str(len(i["version_ids"])), "yes" if i["verified"] else "NO")
                for i in doc["items"]], header=True)
            if not shown["complete"]:
                print(f"({plural(doc['items_of_other_engagements'], 'item')} of other "
                      "engagements not shown)")
            for p in doc["remains"]["pending_purge"]:
                print(f"pending purge: {p['id']} locked until {p['locked_until'] or 'unknown'}")
        if self.json:
            print(json.dumps(shown, ensure_ascii=False))
        else:
            human()
        return 0
