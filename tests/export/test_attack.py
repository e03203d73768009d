"""Attacks on export found in review: each test failed before its fix."""

from __future__ import annotations

import pytest

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
