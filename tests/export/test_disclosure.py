"""Disclosure levels, ROC references and the recipients registry: service and CLI."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import Session, col, select

from tests.conftest import Result, ingest_one
from vault.age import X25519Identity
from vault.errors import AlreadyExists, InvalidInput, NotFound
from vault.export.refs import fingerprint, short
from vault.metadata.models import AuditEvent, ItemRocRef, ItemSearch
from vault.service import Vault


def _events(v: Vault, action: str) -> list[AuditEvent]:
    with Session(v.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(col(AuditEvent.seq))).all())


def test_disclosure_set_is_audited_and_reaches_the_search_row(vault: Vault,
                                                              engagement: str) -> None:
    it = ingest_one(vault, engagement, "fw.txt", b"permit any").view.item
    assert it.disclosure == "team"
    vault.set_disclosure(it.id[:12], "council-only", "QA asked for the raw rules")
    with Session(vault.engine) as s:
        row = s.exec(select(ItemSearch).where(ItemSearch.item_id == it.id)).one()
    assert row.disclosure == "council-only"
    assert vault.item(it.id).item.disclosure == "council-only"
    [ev] = _events(vault, "item.disclose")
    assert json.loads(ev.detail or "") == {"from": "team", "to": "council-only",
                                           "reason": "QA asked for the raw rules"}
    assert ev.object == it.id and ev.outcome == "ok"


def test_disclosure_set_refusals(vault: Vault, engagement: str) -> None:
    it = ingest_one(vault, engagement, "fw.txt", b"permit any").view.item
    with pytest.raises(InvalidInput, match="unknown disclosure level"):
        vault.set_disclosure(it.id, "public", "x")
    with pytest.raises(InvalidInput, match="reason is required"):
        vault.set_disclosure(it.id, "client", "  ")
    with pytest.raises(InvalidInput, match="card data"):
        vault.set_disclosure(it.id, "client", "for card 4111111111111111")
    with pytest.raises(InvalidInput, match="already team"):
        vault.set_disclosure(it.id, "team", "same")
    assert vault.item(it.id).item.disclosure == "team"


def test_roc_refs_at_ingest_and_later(vault: Vault, engagement: str) -> None:
    it = ingest_one(vault, engagement, "fw.txt", b"permit any",
                    roc_refs=("DOC-12", "DOC-12", " E.4.1 ")).view.item
    with Session(vault.engine) as s:
        refs = sorted(s.exec(select(ItemRocRef.ref).where(ItemRocRef.item_id == it.id)).all())
    assert refs == ["DOC-12", "E.4.1"]
    [ing] = _events(vault, "item.ingest")
    assert json.loads(ing.detail or "")["roc_refs"] == ["DOC-12", "E.4.1"]
    assert vault.item(it.id).roc_refs == ("DOC-12", "E.4.1")
    assert vault.set_roc_refs(it.id, add=["DOC-13"], remove=["DOC-12"]) == ["DOC-13", "E.4.1"]
    assert vault.list_items(engagement)[0].as_dict()["roc_refs"] == ["DOC-13", "E.4.1"]
    [ev] = _events(vault, "item.roc-ref")
    assert json.loads(ev.detail or "") == {"added": ["DOC-13"], "removed": ["DOC-12"]}
    with pytest.raises(InvalidInput, match="no ROC reference DOC-99"):
        vault.set_roc_refs(it.id, remove=["DOC-99"])
    with pytest.raises(InvalidInput, match="not a ROC reference"):
        vault.set_roc_refs(it.id, add=["../etc"])
    with pytest.raises(InvalidInput, match="not a ROC reference"):
        ingest_one(vault, engagement, "b.txt", b"b", roc_refs=("4111111111111111",))
    with pytest.raises(InvalidInput, match="already"):
        vault.set_roc_refs(it.id, add=["DOC-13"])


def test_recipients_registry(vault: Vault, engagement: str) -> None:
    key = str(X25519Identity.generate().recipient)
    r = vault.add_recipient("PCI SSC QA", "council", key)
    assert r.fingerprint == fingerprint(key) and len(short(r.fingerprint)) == 19
    c = vault.add_recipient("Acme security", "client", str(X25519Identity.generate().recipient),
                            client="Acme Payments")
    assert c.client == "Acme Payments"
    assert [x.name for x in vault.list_recipients()] == ["Acme security", "PCI SSC QA"]
    with pytest.raises(AlreadyExists, match="exists already"):
        vault.add_recipient("PCI SSC QA", "council", str(X25519Identity.generate().recipient))
    with pytest.raises(InvalidInput, match="not an age X25519 recipient"):
        vault.add_recipient("bad", "council", "age1notakey")
    with pytest.raises(InvalidInput, match="not an age X25519 recipient"):
        vault.add_recipient("ssh", "council", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI")
    with pytest.raises(NotFound, match="no engagement has the client 'Globex'"):
        vault.add_recipient("globex", "client", key, client="Globex")
    with pytest.raises(InvalidInput, match="needs --client"):
        vault.add_recipient("noclient", "client", key)
    vault.remove_recipient("PCI SSC QA")
    assert [x.name for x in vault.list_recipients()] == ["Acme security"]
    with pytest.raises(NotFound, match="no export recipient"):
        vault.remove_recipient("PCI SSC QA")
    assert [e.outcome for e in _events(vault, "recipient.add")] == [
        "ok", "ok", "error", "error"]  # duplicate, unknown client; a bad key leaves none
    assert [e.outcome for e in _events(vault, "recipient.remove")] == ["ok", "error"]


def test_cli_recipient_disclosure_and_item_set(initialised: Callable[..., Result]) -> None:
    run = initialised
    assert run("engagement", "create", "E", "--client", "Acme Payments", "--standard",
               "pci-dss-4.0.1").code == 0
    r = run("ingest", "E", "-", "--name", "a.txt", "--roc-ref", "DOC-1", "--json", stdin=b"a")
    item = r.json()[0]["id"]  # type: ignore[index]
    key = str(X25519Identity.generate().recipient)
    r = run("recipient", "add", "QA", "--type", "council", "--age-recipient", key)
    assert r.code == 0, r.err
    assert short(fingerprint(key)) in r.text
    r = run("recipient", "add", "bad", "--type", "council", "--age-recipient", "age1xyz")
    assert r.code == 2 and "not an age X25519 recipient" in r.err and r.err.count("\n") <= 2
    r = run("recipient", "add", "c", "--type", "client", "--client", "Nope",
            "--age-recipient", key)
    assert r.code == 2 and "no engagement has the client" in r.err
    r = run("recipient", "list", "--json")
    assert [x["name"] for x in r.json()] == ["QA"]  # type: ignore[union-attr,index]
    r = run("disclosure", "set", item[:10], "client", "--reason", "client may see it")
    assert r.code == 0, r.err
    assert run("show", item, "--json").json()["disclosure"] == "client"  # type: ignore[index]
    r = run("item", "set", item, "--roc-ref", "DOC-2", "--drop-roc-ref", "DOC-1", "--json")
    assert r.code == 0 and r.json()["roc_refs"] == ["DOC-2"]  # type: ignore[index]
    assert run("recipient", "remove", "QA").code == 0
    assert run("recipient", "list", "--json").json() == []


def test_roc_refs_at_ingest_of_several_files_at_once(vault: Vault, engagement: str) -> None:
    """Several small files go through the batched ingest: each keeps the references too."""
    from tests.conftest import src
    from vault.service import IngestOptions
    results = vault.ingest(engagement, [src(f"s{i}.txt", f"sample {i}\n".encode())
                                        for i in range(3)], IngestOptions(roc_refs=("DOC-7",)))
    for r in results:
        item = r.view.item  # type: ignore[union-attr]
        assert vault.item(item.id).roc_refs == ("DOC-7",)
    details = [json.loads(e.detail or "{}") for e in vault.audit_events(engagement)
               if e.action == "item.ingest"]
    assert [d["roc_refs"] for d in details] == [["DOC-7"]] * 3
