"""Attacks on export found in review: each test failed before its fix."""

from __future__ import annotations

import pytest

from tests.export.conftest import Firm
from vault.errors import InvalidInput
from vault.export.refs import roc_refs


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
