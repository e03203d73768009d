"""The catalogue through the service: old numbers and headings when evidence is mapped and
filtered, the coverage's heading rows, and a firm's own catalogue loaded into the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from tests.catalogue.test_api import FIRM_3DS, firm
from tests.conftest import ingest_one
from vault import catalogue
from vault.age import X25519Identity
from vault.errors import InvalidInput, NotFound, PermissionDenied
from vault.metadata.models import AuditEvent, FirmCatalogue
from vault.service import ItemFilter, Vault
from vault.service.catalogue import HEADING_MARK

OLD_NOTE = "A3.3.1.2 is the PCI DSS v4.0 number of A3.3.1.1: using A3.3.1.1"


def events(vault: Vault, action: str) -> list[AuditEvent]:
    with Session(vault.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(col(AuditEvent.seq))).all())


# -- mapping evidence ----------------------------------------------------------------------------


def test_evidence_mapped_to_an_old_number_is_mapped_to_the_new_one_with_a_note(
        vault: Vault, engagement: str) -> None:
    r = ingest_one(vault, engagement, "bau.txt", b"bau", requirements=("A3.3.1.2",))
    assert r.view.requirements == ("A3.3.1.1",)
    assert r.warnings == (OLD_NOTE,)
    both = ingest_one(vault, engagement, "bau2.txt", b"bau2",
                      requirements=("A3.3.1.2", "A3.3.1.1"))
    assert both.view.requirements == ("A3.3.1.1",) and both.warnings == (OLD_NOTE,)


def test_filtering_by_an_old_number_lists_the_new_ones_evidence(vault: Vault,
                                                                engagement: str) -> None:
    ingest_one(vault, engagement, "bau.txt", b"bau", requirements=("A3.3.1.1",))
    flt = ItemFilter(requirement="A3.3.1.2")
    assert [i.item.original_name for i in vault.list_items(engagement, flt)] == ["bau.txt"]
    assert flt.requirement == "A3.3.1.1"
    assert vault.count_items(engagement, ItemFilter(requirement="A3.3.1.2")) == 1  # the TUI's
    page = vault.item_page(engagement, ItemFilter(requirement="A3.3.1.2"))
    assert [i.item.original_name for i in page.items] == ["bau.txt"]
    looked = vault.requirement(engagement, "A3.3.1.2")
    assert (looked.id, looked.note, looked.heading) == ("A3.3.1.1", OLD_NOTE, False)
    with pytest.raises(InvalidInput, match="requirement 'A3.3.1.3' is not in the PCI DSS"):
        vault.requirement(engagement, "A3.3.1.3")


def test_evidence_mapped_only_to_a_heading_carries_a_warning(vault: Vault,
                                                            engagement: str) -> None:
    r = ingest_one(vault, engagement, "mfa.txt", b"mfa", requirements=("8.4",))
    assert r.view.requirements == ("8.4",)  # accepted: it counts for the roll-up
    assert r.warnings == ("mapped only to the heading 8.4, which assessors do not report on: "
                          "map the evidence to the requirements under it too (8.4.1 … 8.4.3)",)
    ok = ingest_one(vault, engagement, "mfa2.txt", b"mfa2", requirements=("8.4", "8.4.2"))
    assert ok.warnings == ()
    again = ingest_one(vault, engagement, "mfa-again.txt", b"mfa", requirements=("8",))
    assert again.duplicate and again.warnings == ()  # nothing was mapped
    assert vault.requirement(engagement, "8").heading
    assert ingest_one(vault, engagement, "n.txt", b"n").warnings == ()


def test_the_warnings_reach_an_interview_note(vault: Vault, engagement: str) -> None:
    from datetime import date
    r = vault.add_interview_note(engagement, "network admin", date(2026, 2, 1), ["1.2"],
                                 "rules are reviewed")
    assert r.warnings and r.warnings[0].startswith("mapped only to the heading 1.2")


# -- coverage ------------------------------------------------------------------------------------


def test_coverage_marks_heading_rows_and_counts_only_direct_mappings(vault: Vault,
                                                                     engagement: str) -> None:
    ingest_one(vault, engagement, "a.txt", b"a", requirements=("1.2.1", "1.2.7"))
    ingest_one(vault, engagement, "b.txt", b"b", requirements=("1.2",))
    rows = {rid: (title, n) for rid, title, n in vault.coverage(engagement)}
    assert len(rows) == len(catalogue.builtin("pci-dss-4.0.1").requirements)
    title, n = rows["1.2"]
    assert n == 1  # the item mapped to the heading itself
    assert title == (f"{HEADING_MARK}NSC configuration standards, diagrams and reviews — 2 of "
                     "8 under it have evidence")
    title, n = rows["1"]
    assert n == 0 and title.startswith(HEADING_MARK) and title.endswith(
        "— 2 of 19 under it have evidence")
    assert rows["1.2.1"] == ("NSC ruleset configuration standards exist, are applied and "
                             "kept up to date", 1)
    assert rows["1.2.2"][1] == 0  # a heading's evidence covers none of its requirements
    headings = {rid for rid, (t, _) in rows.items() if t.startswith(HEADING_MARK)}
    assert headings == {r.id for r in catalogue.builtin("pci-dss-4.0.1").requirements
                        if catalogue.depth(r.id) <= 2}


# -- a firm's own catalogue ----------------------------------------------------------------------


def data(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2).encode()


def test_loading_a_3ds_file_extends_the_builtin_catalogue_for_the_firms_engagements(
        vault: Vault) -> None:
    done = vault.load_catalogue(data(FIRM_3DS))
    assert (done.info.standard, done.info.added, done.retitled, done.replaced) == (
        "pci-3ds-1.0", 3, 1, False)
    assert done.info.requirements == 17 and done.info.loaded == 4
    vault.create_engagement("acs-2026", client="Acme ACS", standard="pci-3ds-1.0")
    r = ingest_one(vault, "acs-2026", "scope.md", b"scope", requirements=("P2-1.1.1",))
    assert r.view.requirements == ("P2-1.1.1",) and r.warnings == ()
    heading = ingest_one(vault, "acs-2026", "p21.md", b"p21", requirements=("P2-1",))
    assert heading.warnings and "(P2-1.1.1 … P2-1.2)" in heading.warnings[0]
    cov = {rid: n for rid, _, n in vault.coverage("acs-2026")}
    assert cov["P2-1.1.1"] == 1 and len(cov) == 17
    assert vault.count_items("acs-2026", ItemFilter(requirement="P2-1.1.1")) == 1
    shown = vault.catalogue("pci-3ds-1.0")
    assert shown.get("P1-5") == catalogue.Requirement("P1-5", "Baseline: access management")
    infos = {c.standard: c for c in vault.catalogues()}
    assert infos["pci-dss-4.0.1"].source == "built-in"
    assert infos["pci-3ds-1.0"].source == "built-in + firm file (3 added)"
    assert infos["pci-3ds-1.0"].loaded_by == "alice"
    [ev] = events(vault, "catalogue.load")
    assert (ev.actor, ev.object, ev.outcome) == ("alice", "pci-3ds-1.0", "ok")
    assert json.loads(ev.detail or "{}") == {
        "added": 3, "replaced": False, "requirements": 4, "retitled": 1,
        "sha256": infos["pci-3ds-1.0"].sha256}


def test_every_vault_that_opens_sees_the_firms_catalogue(vault: Vault,
                                                         make_vault: Callable[..., Vault],
                                                         alice_id: X25519Identity) -> None:
    vault.load_catalogue(data(FIRM_3DS))
    catalogue.install({})  # as in another process
    assert "P2-1.1" not in catalogue.load("pci-3ds-1.0")
    make_vault(alice_id)
    assert "P2-1.1" in catalogue.load("pci-3ds-1.0")  # what the TUI's picker reads
    with Session(vault.engine) as s:
        assert s.get(FirmCatalogue, "pci-3ds-1.0") is not None


def test_reloading_replaces_the_firms_file_but_keeps_mapped_ids(vault: Vault) -> None:
    vault.load_catalogue(data(FIRM_3DS))
    vault.create_engagement("acs-2026", client="Acme ACS", standard="pci-3ds-1.0")
    ingest_one(vault, "acs-2026", "scope.md", b"scope", requirements=("P2-1.1",))
    smaller = firm(requirements=[FIRM_3DS["requirements"][0]])
    done = vault.load_catalogue(data(smaller))
    assert done.replaced and done.info.added == 1
    assert "P2-1.2" not in catalogue.load("pci-3ds-1.0")
    dropped = firm(requirements=[{"id": "P2-3.1", "title": "Firm: hardened 3DS servers"}])
    with pytest.raises(InvalidInput) as exc:
        vault.load_catalogue(data(dropped))
    assert exc.value.message == "evidence is mapped to P2-1.1, which this file does not have"
    assert exc.value.hint == "keep those ids in the file"
    assert "P2-1.1" in catalogue.load("pci-3ds-1.0")  # the previous file stands
    assert [e.outcome for e in events(vault, "catalogue.load")] == ["ok", "ok", "error"]


def test_a_malformed_file_is_refused_in_one_line_and_audited(vault: Vault) -> None:
    with pytest.raises(InvalidInput) as exc:
        vault.load_catalogue(data(firm(requirements=[{"id": "P2-9.1", "title": "x"}])))
    assert exc.value.message == ("P2-9.1: its parent P2-9 is neither in the file nor in the "
                                 "built-in catalogue")
    with pytest.raises(InvalidInput, match="title of P2-1.1 contains card data"):
        vault.load_catalogue(data(firm(requirements=[
            {"id": "P2-1.1", "title": "Firm: test card 4111 1111 1111 1111"}])))
    with pytest.raises(InvalidInput, match="larger than 2 MiB"):
        vault.load_catalogue(b" " * (3 << 20))
    assert [(e.object, e.outcome) for e in events(vault, "catalogue.load")] == [
        ("catalogue", "error"), ("pci-3ds-1.0", "error"), ("catalogue", "error")]
    assert vault.catalogues()[1].source == "built-in"


def test_only_administrators_load_catalogues_everyone_reads_them(
        vault: Vault, make_vault: Callable[..., Vault]) -> None:
    bob_id = X25519Identity.generate()
    vault.add_user("bob", str(bob_id.recipient))
    bob = make_vault(bob_id, "bob")
    assert [c.standard for c in bob.catalogues()] == list(catalogue.STANDARDS)
    assert len(bob.catalogue("pci-dss-4.0.1").requirements) == 366
    with pytest.raises(PermissionDenied, match="bob may not load requirement catalogues"):
        bob.load_catalogue(data(FIRM_3DS))
    with pytest.raises(NotFound, match="no catalogue 'pci-dss-3.2.1'"):
        bob.catalogue("pci-dss-3.2.1")


def test_a_row_edited_in_the_database_is_reported_not_used(vault: Vault) -> None:
    vault.load_catalogue(data(FIRM_3DS))
    with Session(vault.engine) as s:
        row = s.get(FirmCatalogue, "pci-3ds-1.0")
        assert row is not None
        row.body = row.body.replace("P2-1.1\"", "P2-9.1\"", 1)
        s.add(row)
        s.commit()
    with pytest.raises(InvalidInput, match="no longer passes its checks"):
        vault.catalogues()
    assert "P2-1.1" not in catalogue.load("pci-3ds-1.0")  # the built-in one, meanwhile


def test_a_catalogue_table_that_cannot_be_read_does_not_stop_a_vault_opening(
        vault: Vault, make_vault: Callable[..., Vault], alice_id: X25519Identity) -> None:
    vault.load_catalogue(data(FIRM_3DS))
    with vault.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE firm_catalogue")
    again = make_vault(alice_id)  # opens: `vault doctor` and the rest still work
    assert catalogue.load("pci-3ds-1.0") is catalogue.builtin("pci-3ds-1.0")
    assert again.whoami()["name"] == "alice"
    with pytest.raises(sa.exc.OperationalError):  # the CLI reports it in one line
        again.catalogues()
