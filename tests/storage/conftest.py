"""Session fixtures for the storage tests: one real SeaweedFS server (S3) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .seaweed import Server, seaweedfs


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running single-node SeaweedFS on loopback; stopped (terminate, wait, kill) at the end.

    If ``weed`` is missing or does not serve S3 in time, every test using it errors with the
    server's log tail: S3 tests are never skipped silently.
    """
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
