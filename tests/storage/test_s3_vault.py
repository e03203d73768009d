"""The vault on PostgreSQL + S3 (a real SeaweedFS): Object Lock on every payload, refusal of an
unlocked bucket, the server killed mid-ingest, parallel ingests, and clean CLI errors."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from storage_backends.s3 import S3Store
from tests.conftest import StepClock
from vault.age import X25519Identity
from vault.errors import InvalidInput, StorageError
from vault.evidence.sources import Source
from vault.metadata.db import open_database
from vault.service import IngestOptions, IngestResult, Vault, bootstrap

from .seaweed import Server
from .test_s3 import new_bucket, session_for

MiB = 1 << 20


def s3_store(server: Server, bucket: str) -> S3Store:
    return S3Store(bucket, "vault", endpoint_url=server.endpoint, region="us-east-1",
                   path_style=True, session=session_for(server))


@pytest.fixture
def s3_vault(seaweed: Server, pg_url: str, tmp_path: Path) -> Callable[..., Vault]:
    def make(lock: bool = True) -> Vault:
        engine = open_database(pg_url)
        ident = X25519Identity.generate()
        clock = StepClock()
        bootstrap._register_first(engine, ident, "alice", clock, os.urandom)
        v = Vault(engine, s3_store(seaweed, new_bucket(seaweed, lock=lock)), ident,
                  tmp_dir=tmp_path / "tmp", clock=clock)
        v.create_engagement("e", client="c", standard="pci-dss-4.0.1")
        return v
    return make


def src(name: str, data: bytes | Callable[[], io.BufferedIOBase]) -> Source:
    opener = data if callable(data) else (lambda: io.BytesIO(data))
    return Source(name=name, size=None, open=opener)  # type: ignore[arg-type]


def test_payloads_are_locked_until_destruction(s3_vault: Callable[..., Vault],
                                               tmp_path: Path) -> None:
    v = s3_vault()
    assert v.store_check()["worm"] is True
    [r] = v.ingest("e", [src("a.txt", b"evidence" * 1000)], IngestOptions())
    assert isinstance(r, IngestResult)
    info = v.store.head(r.view.item.object_key)
    assert info.retain_until is not None and info.retain_until.year == 2029
    with pytest.raises(PermissionError):
        v.store.delete(r.view.item.object_key)
    v.read_item(r.view.item.id, dest=tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"evidence" * 1000


def test_unlocked_bucket_is_refused_unless_allowed(s3_vault: Callable[..., Vault]) -> None:
    v = s3_vault(lock=False)
    with pytest.raises(InvalidInput, match="lacks object_lock and versioning"):
        v.ingest("e", [src("a", b"a")], IngestOptions())
    [r] = v.ingest("e", [src("a", b"a")], IngestOptions(allow_unlocked=True))
    assert isinstance(r, IngestResult)
    assert v.store.head(r.view.item.object_key).retain_until is None


def test_parallel_ingests_each_item_once(s3_vault: Callable[..., Vault]) -> None:
    v = s3_vault()
    barrier = threading.Barrier(12)
    results: list[object] = []

    def work(name: str, data: bytes) -> None:
        barrier.wait()
        results.extend(v.ingest("e", [src(name, data)], IngestOptions()))
    threads = [threading.Thread(target=work, args=(f"f{i}", os.urandom(3 * MiB)))
               for i in range(8)]
    threads += [threading.Thread(target=work, args=(f"same{i}", b"same bytes"))
                for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, IngestResult) for r in results), results
    assert sum(not r.duplicate for r in results) == 9  # type: ignore[union-attr]
    items = v.list_items("e")
    assert len(items) == 9 and len({i.item.sha256 for i in items}) == 9
    assert sorted(v.store.list("payload/")) == sorted(i.item.object_key for i in items)


def test_server_killed_mid_ingest(s3_vault: Callable[..., Vault], seaweed: Server,
                                  tmp_path: Path) -> None:
    v = s3_vault()
    big = tmp_path / "big.log"
    with open(big, "wb") as f:
        for _ in range(200):
            f.write(os.urandom(MiB))
    read = 0

    def kill_at_64_mib(n: int) -> None:
        nonlocal read
        read += n
        if read >= 64 * MiB and seaweed._proc is not None:
            seaweed.kill()
    source = Source(big.name, big.stat().st_size, lambda: open(big, "rb"), big)
    try:
        [r] = v.ingest("e", [source], IngestOptions(), progress=kill_at_64_mib)
        assert isinstance(r, StorageError), r
        assert str(r).startswith("could not store 'big.log': ")
        assert v.list_items("e") == []
    finally:
        seaweed.start()
    v.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    rep = v.doctor(older_than=timedelta(0))
    assert len(rep["stalled_ingests"]) == 1 or rep["abandoned_uploads"]
    v.doctor(repair=True, older_than=timedelta(0))
    assert v.doctor(older_than=timedelta(0))["abandoned_uploads"] == []
    [r] = v.ingest("e", [source], IngestOptions())
    assert isinstance(r, IngestResult) and not r.duplicate
    assert r.view.item.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()


@pytest.mark.parametrize("case", ["credentials", "bucket", "endpoint"])
def test_cli_store_errors_are_one_line(seaweed: Server, tmp_path: Path, case: str) -> None:
    bucket = new_bucket(seaweed)
    endpoint = seaweed.endpoint if case != "endpoint" else "http://127.0.0.1:9"
    if case == "bucket":
        bucket = "no-such-bucket-here"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "AWS_"))}
    env |= {"VAULT_HOME": str(tmp_path / "home"), "VAULT_IDENTITY": str(tmp_path / "id.age"),
            "VAULT_PASSPHRASE": "a long passphrase",
            "VAULT_STORE_URL": f"s3://{bucket}/vault?endpoint={endpoint}&path_style=1",
            "AWS_ACCESS_KEY_ID": seaweed.access_key, "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_SECRET_ACCESS_KEY": seaweed.secret_key if case != "credentials" else "wrong",
            "AWS_MAX_ATTEMPTS": "1"}
    vault = [str(Path(sys.executable).with_name("vault"))]
    assert subprocess.run(vault + ["init"], env=env, capture_output=True).returncode == 0
    subprocess.run(vault + ["engagement", "create", "e", "--client", "c", "--standard",
                            "pci-dss-4.0.1"], env=env, check=True, capture_output=True)
    r = subprocess.run(vault + ["ingest", "e", "-", "--name", "x"], input=b"data", env=env,
                       capture_output=True, timeout=120)
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert err.startswith("vault: error: cannot reach the object store s3://"), err
    assert "Traceback" not in err and "wrong" not in err
    assert len(err.strip().splitlines()) <= 2
