from __future__ import annotations

import pytest

from vault.pii import HAVE_HYPERSCAN, Scanner

MODES = [False] + ([True] if HAVE_HYPERSCAN else [])


@pytest.fixture(params=MODES, ids=lambda hs: "hyperscan" if hs else "re", scope="module")
def scanner(request: pytest.FixtureRequest) -> Scanner:
    return Scanner(b"test-key", use_hyperscan=request.param)
