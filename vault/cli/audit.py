"""The audit log and the firm's signing key: audit [verify|checkpoint|proof|export],
signing-key export|rotate."""

from __future__ import annotations

import json
from pathlib import Path

from vault.cli.base import EXIT_FOUND, Command
from vault.cli.termout import plural, safe, table


class Audit(Command):
    VERBS = ("audit", "signing-key")

    def audit(self) -> int:
        from vault.service import event_dict
        a, v = self.args, self.open()
        if a.acmd is None:
            events = v.audit_events(a.engagement, limit=a.limit, actor=a.actor,
                                    action=a.action)
            rows = [event_dict(e) for e in events]
            self.out(rows, lambda: table([("SEQ", "TIME", "ACTOR", "ACTION", "OUTCOME",
                                           "OBJECT")] + [
                (str(r["seq"]), r["at"][:19], safe(r["actor"]), r["action"], r["outcome"],
                 safe(r["object"])) for r in rows], header=True))
            return 0
        if a.acmd == "verify":
            rep = v.audit_verify()
            self.out({"ok": rep.ok, "events": rep.events, "tree_heads": rep.checkpoints,
                      "problems": rep.problems},
                     lambda: print("\n".join(rep.problems + [
                         f"{plural(rep.events, 'event')}, "
                         f"{plural(rep.checkpoints, 'signed tree head')}: "
                         + ("intact" if rep.ok else "BROKEN")])))
            return 0 if rep.ok else EXIT_FOUND
        if a.acmd == "checkpoint":
            cp = v.audit_checkpoint()
            self.out({"size": cp.size, "root": cp.root, "time": cp.at.isoformat(),
                      "key_id": cp.key_id, "signature": cp.signature},
                     lambda: print(f"signed tree head: size {cp.size}, root {cp.root}"))
            return 0
        if a.acmd == "proof":
            proof = v.audit_proof(a.event)
            print(json.dumps(proof, indent=None if self.json else 2, ensure_ascii=False))
            return 0
        n = v.audit_export(a.output)
        self.out({"output": str(a.output), "lines": n},
                 lambda: print(f"wrote {n} lines to {safe(str(a.output))}"))
        return 0

    def signing_key(self) -> int:
        a, v = self.args, self.open()
        if a.scmd == "rotate":
            k = v.rotate_signing_key()
            self.out({"key_id": k.id}, lambda: print(f"new signing key {k.id}"))
            return 0
        if a.ca:
            ca = v.ca_certificate()
            _write(a.output, ca)
            self.out({"output": str(a.output), "ca": True},
                     lambda: print(f"wrote {safe(str(a.output))} (the firm's CA certificate)"))
            return 0
        keys = v.signing_keys()
        pem = "".join(k.public_pem for k in (keys if a.all else keys[:1]))
        _write(a.output, pem)
        self.out({"output": str(a.output), "key_ids": [k.id for k in keys]},
                 lambda: print(f"wrote {safe(str(a.output))} (key {keys[0].id[:16]}…)"))
        return 0


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="ascii")
    tmp.replace(path)
