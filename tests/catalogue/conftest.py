"""Each test starts and ends with no firm catalogue installed in vault.catalogue (a vault that
opens installs its own; a test that loads one must not leave it to the next)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vault import catalogue


@pytest.fixture(autouse=True)
def _no_firm_catalogue() -> Iterator[None]:
    catalogue.install({})
    yield
    catalogue.install({})
