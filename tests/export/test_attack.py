"""Attacks on export found in review: each test failed before its fix."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tests.conftest import ingest_one
from tests.export.conftest import Firm
from tests.export.test_export import _auditor, _first_failure, _readme, _sh
from vault.errors import InvalidInput
from vault.export.names import payload_path
from vault.export.refs import roc_refs
from vault.service.exports import Scope


@pytest.mark.parametrize("ref", ["4111-1111-1111-1111", "DOC-4111111111111111",
                                 "4111.1111.1111.1111"])
def test_a_roc_reference_never_carries_a_card_number(ref: str) -> None:
    # ROC references are stored in clear, audited and written to the bag (coverage, custody,
    # bag-info's scope): a card number split by dashes or dots, or after a prefix, is refused
    with pytest.raises(InvalidInput, match="not a ROC reference") as err:
        roc_refs([ref])
    assert "1111" not in str(err.value)


def test_an_export_is_never_written_inside_the_vault_home(firm: Firm) -> None:
    # `-o ~/.vault/vault.db --force` would replace the database (every item's header) with
    # the bundle: anything inside the vault home is refused before anything is read
    v = firm.v
    home = v.tmp_dir.parent
    db = home / "vault.db"
    for out in (db, home / "objects" / "x.age", home / "bundle.age"):
        before = db.read_bytes() if db.exists() else None
        with pytest.raises(InvalidInput, match="inside the vault home"):
            v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=out,
                     force=True)
        assert not (home / "bundle.age").exists()
        assert (db.read_bytes() if db.exists() else None) == before


@pytest.mark.parametrize("name", ["4111–1111–1111–1111.txt", "4111‒1111‒1111‒1111.txt",
                                  "4111_1111_1111_1111.txt", "scan ٤١١١١١١١١١١١١١١١.pdf"])
def test_a_payload_name_never_carries_a_card_number(name: str) -> None:
    # en and figure dashes become '_' in a bag path: the scan sees the name as the bag does
    path = payload_path("document", "abcdefabcdef0000", name)
    digits = "".join(str(unicodedata.decimal(c)) for c in path if c.isdecimal())
    assert "4111111111111111" not in digits, path
    assert "411111xxxxxx1111" in path and path.startswith("data/document/abcdefabcdef-")


def test_odd_names_verify_with_bagit_and_carry_no_card_number(firm: Firm,
                                                             tmp_path: Path) -> None:
    # spaces, '%', a newline, non-ASCII letters, and a card number split by underscores
    # (which the detector does not take for one): the bag validates with bagit, and no tag
    # file or name carries the number
    v = firm.v
    for name in ("Prüfung 100%\nfinal.txt", "Prüfung.txt", "4111_1111_1111_1111.txt"):
        ingest_one(v, "acme-2026", name, f"evidence {len(name)}\n".encode(),
                   roc_refs=("DOC-9",))
    r = v.export("acme-2026", to="PCI SSC QA", request_ref="QA-9", output=tmp_path / "b.age",
                 scope=Scope(roc_refs=("DOC-9",)))
    assert len(r.included) == 3
    work = tmp_path / "desk"
    env = _auditor(firm, tmp_path / "b.age", firm.council_key, r.bag_name, work)
    assert _sh(_readme()[0][1], work, env).returncode == 0
    assert _first_failure(work, env) is None
    bag = work / r.bag_name
    for f in bag.rglob("*"):
        assert "4111_1111" not in str(f)
        if f.is_file() and not str(f.relative_to(bag)).startswith("data/"):
            assert b"4111_1111" not in f.read_bytes(), f


@pytest.mark.parametrize("sep", ["–", "—", "\u2212", "\u00a0", "\u202f"])
def test_a_card_number_behind_unicode_dashes_or_spaces_is_quarantined(firm: Firm,
                                                                      sep: str) -> None:
    # word processors and web pages write en dashes and no-break spaces: such a card number
    # was not found, so its item was active and went to the client
    v = firm.v
    text = f"auth {sep.join(['4111', '1111', '1111', '1111'])} approved\n"
    it = ingest_one(v, "acme-2026", "auth.txt", text.encode(), disclosure="client",
                    roc_refs=("DOC-8",)).view.item
    assert it.state == "quarantined"
    r = v.export("acme-2026", to="Acme security", request_ref="ACME-8", output=None,
                 scope=Scope(roc_refs=("DOC-8",)), dry_run=True)
    assert r.included == [] and [w.item_id for w in r.withheld] == [it.id]


def test_an_item_of_another_engagement_is_refused_without_naming_it(firm: Firm) -> None:
    # the check runs before the permission check: whoever tries must not learn the other
    # engagement's name (nor its client) from an id prefix they guessed
    other = firm.items["globex"]
    with pytest.raises(InvalidInput, match="belongs to another engagement") as err:
        firm.v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=None,
                      scope=Scope(items=(other[:8],)), dry_run=True)
    assert "globex" not in str(err.value).lower() and other[8:12] not in str(err.value)
