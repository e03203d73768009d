"""No card number in clear in metadata: typed fields refuse card data, file names have it
masked (with a flag that quarantines the item), and the full number is nowhere in the
database, its WAL, the CLI's output or the TUI's screens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Result, ingest_one, src
from vault.errors import InvalidInput
from vault.service import IngestOptions, Vault

PAN = "4111111111111111"
SPACED = "4111 1111 1111 1111"
MASKED = "411111******1111"


@pytest.mark.parametrize("field", ["name", "client"])
def test_an_engagement_refuses_card_data(vault: Vault, field: str) -> None:
    args = {"name": "acme-2026", "client": "Acme"} | {field: f"refund {SPACED}"}
    with pytest.raises(InvalidInput, match="contains card data") as exc:
        vault.create_engagement(args["name"], client=args["client"], standard="pci-dss-4.0.1")
    assert PAN not in str(exc.value) + (exc.value.hint or "") and "4111 1111" not in str(exc.value)


@pytest.mark.parametrize("field", ["system", "description"])
def test_an_ingest_refuses_card_data_in_what_was_typed(vault: Vault, engagement: str,
                                                       field: str) -> None:
    with pytest.raises(InvalidInput, match=f"the {field} contains card data"):
        vault.ingest(engagement, [src("a.txt", b"a")], IngestOptions(**{field: f"card {PAN}"}))


def test_people_and_interview_notes_refuse_card_data(vault: Vault, engagement: str) -> None:
    from datetime import date

    from vault.age import X25519Identity
    with pytest.raises(InvalidInput, match="the user name contains card data"):
        vault.add_user(f"user {PAN}", str(X25519Identity.generate().recipient))
    with pytest.raises(InvalidInput, match="the interviewee role contains card data"):
        vault.add_interview_note(engagement, f"DBA {PAN}", date(2026, 3, 1), [], "notes")


def test_a_file_name_with_a_card_number_is_masked_and_flagged(vault: Vault,
                                                              engagement: str) -> None:
    r = ingest_one(vault, engagement, f"refund_{PAN}.txt", b"nothing sensitive inside\n")
    assert r.view.item.original_name == f"refund_{MASKED}.txt"
    assert r.quarantined and r.flags == {"pan": 1}
    [flag] = vault.flags(engagement)
    assert (flag.flag.kind, flag.flag.detector, flag.flag.masked) == ("pan", "file name",
                                                                      MASKED)
    assert flag.item_name == f"refund_{MASKED}.txt"


def _all_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.rglob("vault.db*") if p.is_file())


def test_the_full_number_is_nowhere(initialised, cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every way a card number can try to get into metadata, through the CLI; then grep the
    database, its WAL and every output for it (plain or grouped)."""
    run = initialised
    outputs: list[Result] = []

    def vault(*args: str, stdin: bytes = b"") -> Result:
        r = run(*args, stdin=stdin)
        outputs.append(r)
        return r

    assert vault("engagement", "create", f"refund {PAN}", "--client", "c",
                 "--standard", "pci-dss-4.0.1").code == 2
    assert vault("engagement", "create", "acme-2026", "--client", f"Acme {SPACED}",
                 "--standard", "pci-dss-4.0.1").code == 2
    assert vault("engagement", "create", "acme-2026", "--client", "Acme",
                 "--standard", "pci-dss-4.0.1").code == 0
    named = tmp_path / f"refund_{PAN}.txt"
    named.write_bytes(b"clean content\n")
    assert vault("ingest", "acme-2026", str(named)).code == 0
    assert vault("ingest", "acme-2026", str(named), "--json").code == 0
    assert vault("ingest", "acme-2026", "-", "--name", f"stdin {SPACED}.log",
                 stdin=b"more clean content\n").code == 0
    assert vault("ingest", "acme-2026", "-", "--name", "x.txt", "--description",
                 f"card {PAN}", stdin=b"x").code == 2
    assert vault("ingest", "acme-2026", "-", "--name", "y.txt", "--system",
                 f"pos {PAN}", stdin=b"y").code == 2
    items = json.loads(vault("ls", "acme-2026", "--json").out)
    assert sorted(i["original_name"] for i in items) == [f"refund_{MASKED}.txt",
                                                         f"stdin {MASKED}.log"]
    for args in (("ls", "acme-2026"), ("engagement", "list"), ("flags", "acme-2026"),
                 ("flags", "acme-2026", "--json"), ("audit",), ("audit", "--json"),
                 ("show", items[0]["id"]), ("show", items[0]["id"], "--json"),
                 ("verify", "--all"), ("status",)):
        assert vault(*args).code in (0, 1), args
    spaced = SPACED.encode()
    for r in outputs:
        assert PAN.encode() not in r.out and spaced not in r.out, r
        assert PAN not in r.err and SPACED not in r.err, r
    blob = _all_bytes(cli_env.home)
    assert blob and PAN.encode() not in blob and spaced not in blob
    assert PAN.encode("utf-16-le") not in blob
