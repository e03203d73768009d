"""A firm with evidence of every kind of situation, recipients, and the exporter's certified
key (a throwaway CA until ``vault.crypto.certs`` lands)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ingest_one
from tests.export.pki import TestSigner, make_ca, make_signer
from vault.age import X25519Identity
from vault.service import Vault

PAN = "4111111111111111"


@dataclass
class Firm:
    v: Vault
    signer: TestSigner
    council_key: Path
    client_key: Path
    items: dict[str, str]


@pytest.fixture
def firm(vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Firm:
    v = vault
    signer = make_signer("alice", make_ca())
    monkeypatch.setattr(Vault, "signer", lambda self, s: signer, raising=False)
    v.create_engagement("acme-2026", client="Acme Payments", standard="pci-dss-4.0.1")
    v.create_engagement("globex-2026", client="Globex", standard="pci-dss-4.0.1")
    items = {
        "team": ingest_one(v, "acme-2026", "fw/rules.txt", b"permit tcp any any eq 443\n",
                           requirements=("1.2.1",), roc_refs=("DOC-1",)).view.item.id,
        "client": ingest_one(v, "acme-2026", "policy.txt", b"the firewall policy\n" * 5000,
                             disclosure="client", requirements=("1.2.7",),
                             roc_refs=("DOC-2",), kind="document").view.item.id,
        "council": ingest_one(v, "acme-2026", "council.txt", b"for the council only\n",
                              disclosure="council-only", roc_refs=("DOC-3",)).view.item.id,
        "held": ingest_one(v, "acme-2026", "cards.log", f"card {PAN}\n".encode(),
                           disclosure="client", roc_refs=("DOC-4",),
                           kind="log_export").view.item.id,
        "original": ingest_one(v, "acme-2026", "auth.log",
                               f"ok\nauth {PAN} approved\n".encode(), disclosure="client",
                               roc_refs=("DOC-5",), kind="log_export").view.item.id,
        "globex": ingest_one(v, "globex-2026", "globex.txt", b"globex evidence\n",
                             disclosure="client").view.item.id,
    }
    [flag] = [f for f in v.flags("acme-2026", item=items["original"])]
    res = v.resolve_flag(flag.flag.id, "redact", "card number in an authorisation log")
    items["redacted"] = res.new_item.id if hasattr(res, "new_item") else _newer(v, items)
    ids = {}
    for name in ("council", "client"):
        ident = X25519Identity.generate()
        key = tmp_path / f"{name}-key.txt"
        key.write_text(str(ident) + "\n")
        ids[name] = (key, str(ident.recipient))
    v.add_recipient("PCI SSC QA", "council", ids["council"][1])
    v.add_recipient("Acme security", "client", ids["client"][1], client="Acme Payments")
    return Firm(v, signer, ids["council"][0], ids["client"][0], items)


def _newer(v: Vault, items: dict[str, str]) -> str:
    [newer] = [i.item.id for i in v.versions(items["original"])
               if i.item.id != items["original"]]
    return newer
