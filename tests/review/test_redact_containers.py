"""Containers at review: flags name the member; redaction of a container is refused with a
hint, except a gzip'd text, redacted as text and compressed again."""

from __future__ import annotations

import gzip
import io

import pytest

from tests.conftest import ingest_one
from tests.pii.test_containers import zip_of
from vault.errors import InvalidInput
from vault.service import Vault

PAN = "4111 1111 1111 1111"


def test_a_zip_flag_names_its_member_and_the_item_is_quarantined(vault: Vault,
                                                                 engagement: str) -> None:
    data = zip_of({"logs/gw.log": f"auth ok card={PAN}\n".encode(), "notes.txt": b"fine\n"})
    r = ingest_one(vault, engagement, "export.zip", data)
    assert r.quarantined and r.flags == {"pan": 1}
    [flag] = vault.flags(engagement)
    assert flag.flag.member == "logs/gw.log" and flag.flag.line == 1
    assert flag.as_dict()["member"] == "logs/gw.log"


def test_redacting_a_zip_is_refused_with_a_hint(vault: Vault, engagement: str) -> None:
    data = zip_of({"logs/gw.log": f"auth ok card={PAN}\n".encode()})
    r = ingest_one(vault, engagement, "export.zip", data)
    [flag] = vault.flags(engagement)
    with pytest.raises(InvalidInput, match="cannot redact inside a container") as exc:
        vault.resolve_flag(flag.flag.id, "redact", "not needed for the assessment")
    assert exc.value.hint and "retain" in exc.value.hint
    assert vault.item(r.view.item.id).item.state == "quarantined"


def test_a_gzipped_log_is_redacted_as_text_and_compressed_again(vault: Vault,
                                                                engagement: str) -> None:
    log = f"2026-03-01T12:00:00Z auth ok card={PAN} amount=10\n".encode() * 3
    r = ingest_one(vault, engagement, "gw.log.gz", gzip.compress(log))
    assert r.quarantined
    [flag] = vault.flags(engagement)
    res = vault.resolve_flag(flag.flag.id, "redact", "card numbers are not needed")
    assert res.redacted_version and res.item_state == "shredded"
    buf = io.BytesIO()
    vault.read_item(res.redacted_version, out=buf)
    plain = gzip.decompress(buf.getvalue())
    assert b"4111 1111 1111 1111" not in plain and b"4111 11** **** 1111" in plain
    assert plain.count(b"amount=10") == 3


def test_an_archive_keeps_its_table_of_contents_with_flags(vault: Vault,
                                                           engagement: str) -> None:
    inner = zip_of({"settle.csv": b"id;card\n1;5555 5555 5555 4444\n"})  # another value
    data = zip_of({"logs/gw.log": f"card={PAN}\n".encode(), "notes.txt": b"fine\n",
                   "nested.zip": inner})
    r = ingest_one(vault, engagement, "export.zip", data)
    members = {m["path"]: m for m in vault.item_members(r.view.item.id)}
    assert set(members) == {"logs/gw.log", "notes.txt", "nested.zip", "nested.zip/settle.csv"}
    assert members["logs/gw.log"]["flags"] == 1 and members["logs/gw.log"]["open_flags"] == 1
    assert members["nested.zip/settle.csv"]["flags"] == 1
    assert members["notes.txt"]["flags"] == 0 and members["notes.txt"]["size"] == 5
    plain = ingest_one(vault, engagement, "plain.txt", b"just text\n")
    assert vault.item_members(plain.view.item.id) == []
