"""An export from a vault on PostgreSQL: the same bundle checks pass (the README's commands)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.conftest import StepClock, ingest_one
from tests.export.test_export import _env, _readme, _sh
from vault.age import X25519Identity
from vault.metadata.db import open_database
from vault.service import Vault, bootstrap
from vault.service.exports import Scope


def test_export_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    from storage_backends import LocalStore
    engine = open_database(pg_url)
    clock = StepClock()
    ident = X25519Identity.generate()
    bootstrap._register_first(engine, ident, "alice", clock, os.urandom)
    v = Vault(engine, LocalStore(tmp_path / "objects", clock=clock), ident,
              tmp_dir=tmp_path / "tmp", clock=clock)
    v.create_engagement("acme-2026", client="Acme Payments", standard="pci-dss-4.0.1")
    for i in range(5):
        ingest_one(v, "acme-2026", f"f{i}.txt", f"evidence {i}\n".encode() * 1000,
                   roc_refs=(f"DOC-{i % 2}",), requirements=("1.2.1",))
    key = X25519Identity.generate()
    v.add_recipient("PCI SSC QA", "council", str(key.recipient))
    work = tmp_path / "desk"
    work.mkdir()
    r = v.export("acme-2026", to="PCI SSC QA", request_ref="QA-1", output=work / "bundle.age",
                 scope=Scope(roc_refs=("DOC-1",), requirements=("1.2",)))
    assert len(r.included) == 5  # DOC-1 or under 1.2: all of them
    (work / "council-key.txt").write_text(str(key) + "\n")
    ca = tmp_path / "ca.pem"
    from vault.people.grants import signer_for
    with v.session() as s:
        ca.write_text(signer_for(s, v.user, ident, clock()).ca_pem)
    shutil.copy(ca, work / "firm-ca.pem")
    lines, script = _readme()
    (work / "verify_proofs.py").write_text(script)
    env = _env(work) | {"KEY": "council-key.txt", "BUNDLE": "bundle.age", "BAG": r.bag_name}
    for line in lines[1:]:
        done = _sh(line, work, env)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    assert [e.request_ref for e in v.exports("acme-2026")] == ["QA-1"]
