"""Legal holds mirrored to a real S3 store (SeaweedFS with Object Lock) on PostgreSQL: the flag
on every version of every covered payload, cleared when the last covering hold is released."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from storage_backends.s3 import S3Store
from vault.service import IngestOptions, IngestResult, Vault

from .seaweed import Server
from .test_s3_vault import s3_vault, src  # noqa: F401  (fixture)


def _status(s3: Any, store: S3Store, key: str) -> list[str]:
    """The legal-hold status of each version of `key`, asked of S3 itself ("OFF" for a version
    that never had one)."""
    full = store.prefix + key
    page = s3.list_object_versions(Bucket=store.bucket, Prefix=full)
    out = []
    for v in page.get("Versions", []):
        if v["Key"] != full:
            continue
        try:
            out.append(s3.get_object_legal_hold(Bucket=store.bucket, Key=full,
                                                VersionId=v["VersionId"])["LegalHold"]["Status"])
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "NoSuchObjectLegalHold"
            out.append("OFF")
    return out


def test_holds_flag_every_version_until_the_last_is_released(
        s3_vault: Callable[..., Vault], seaweed: Server) -> None:  # noqa: F811
    v = s3_vault()
    store = v.store
    assert isinstance(store, S3Store)
    s3 = seaweed.client()
    items = []
    for name in ("a.txt", "b.txt"):
        [r] = v.ingest("e", [src(name, name.encode() * 100)], IngestOptions())
        assert isinstance(r, IngestResult)
        items.append(r.view.item)
    a, b = items
    # a second version of the key (as a restore or another tool might leave one)
    s3.put_object(Bucket=store.bucket, Key=store.prefix + a.object_key, Body=b"another")
    assert len(_status(s3, store, a.object_key)) == 2

    on_item = v.place_hold(a.id, "matter 1")
    assert _status(s3, store, a.object_key) == ["ON", "ON"]
    assert _status(s3, store, b.object_key) == ["OFF"]
    whole = v.place_hold("e", "matter 2")
    assert _status(s3, store, b.object_key) == ["ON"]
    [r] = v.ingest("e", [src("c.txt", b"later evidence")], IngestOptions())
    assert isinstance(r, IngestResult)
    assert _status(s3, store, r.view.item.object_key) == ["ON"]   # held from its ingest
    with pytest.raises(ClientError):
        page = s3.list_object_versions(Bucket=store.bucket, Prefix=store.prefix + b.object_key)
        s3.delete_object(Bucket=store.bucket, Key=store.prefix + b.object_key,
                         VersionId=page["Versions"][0]["VersionId"])

    v.release_hold(whole.hold.id, "matter 2 settled")
    assert _status(s3, store, a.object_key) == ["ON", "ON"]         # still under matter 1
    assert _status(s3, store, b.object_key) == ["OFF"]
    assert _status(s3, store, r.view.item.object_key) == ["OFF"]
    v.release_hold(on_item.hold.id, "matter 1 settled")
    assert _status(s3, store, a.object_key) == ["OFF", "OFF"]
    assert v.doctor()["unheld_payloads"] == [] and v.doctor()["stale_holds"] == []
