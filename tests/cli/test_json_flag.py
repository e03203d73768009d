"""`--json` works before the command as well as after it."""

from __future__ import annotations

import json

from tests.conftest import Result


def test_top_level_json(initialised) -> None:  # type: ignore[no-untyped-def]
    run = initialised
    assert run("engagement", "create", "acme-2026", "--client", "c",
               "--standard", "pci-dss-4.0.1").code == 0
    r: Result = run("ingest", "acme-2026", "-", "--name", "a.txt", stdin=b"alpha")
    assert r.code == 0
    for args in (("--json", "ls", "acme-2026"), ("ls", "acme-2026", "--json")):
        out = run(*args)
        assert out.code == 0
        [item] = json.loads(out.out)
        assert item["original_name"] == "a.txt"
    human = run("ls", "acme-2026")
    assert human.out.startswith(b"ID") and b"a.txt" in human.out
    status = json.loads(run("--json", "status").out)
    assert status["user"] == "alice"
