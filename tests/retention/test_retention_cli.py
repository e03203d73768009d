"""`vault engagement retention`, `vault retention status`, `vault hold add|release`, `vault
holds` through the command line: output, --json, and one-line errors (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from tests.conftest import Result

Run = Callable[..., Result]


def _setup(run: Run) -> str:
    assert run("engagement", "create", "acme-2026", "--client", "c",
               "--standard", "pci-dss-4.0.1").code == 0
    r = run("ingest", "acme-2026", "-", "--name", "fw-rules.txt", "--json", stdin=b"rules")
    assert r.code == 0, r.err
    return str(r.json()[0]["id"])  # type: ignore[index]


def test_status_says_not_due_without_completion_then_dates(initialised: Run) -> None:
    run = initialised
    item = _setup(run)
    r = run("retention", "status", "acme-2026")
    assert r.code == 0, r.err
    assert "not due: no completion date" in r.text and "fw-rules.txt" in r.text
    [row] = run("retention", "status", "--json").json()  # type: ignore[misc]
    assert (row["item"], row["destruction_date"], row["note"]) == (
        item, None, "not due: no completion date")
    assert run("engagement", "complete", "acme-2026", "--date", "2026-01-31").code == 0
    today = datetime.now(UTC).date()
    [row] = run("retention", "status", "acme-2026", "--json").json()  # type: ignore[misc]
    ingested = date.fromisoformat(row["ingested_at"][:10])
    due = (ingested.replace(year=ingested.year + 3) if (ingested.month, ingested.day) != (
        2, 29) else date(ingested.year + 3, 3, 1)) + timedelta(days=1)
    assert row["destruction_date"] == due.isoformat()
    assert row["days_left"] == (due - today).days and row["holds"] == []
    assert run("retention", "status", "--upcoming", "30").text.strip() == (
        "nothing due within that time")
    r = run("engagement", "retention", "acme-2026", "--years", "6")
    assert r.code == 0 and "keeps its evidence 6 years" in r.text
    [row] = run("retention", "status", "--json").json()  # type: ignore[misc]
    assert row["retention_years"] == 6
    assert row["destruction_date"] == due.replace(year=due.year + 3).isoformat()
    r = run("engagement", "retention", "acme-2026", "--years", "4")
    assert r.code == 2 and r.out == b""
    assert r.err.startswith("vault: error: engagement 'acme-2026' keeps its evidence 6 years: "
                            "retention may only be made longer, not 4")
    assert "vault: hint:" in r.err and "Traceback" not in r.err
    r = run("retention", "status", "--upcoming", "-3")
    assert r.code == 2 and "--upcoming" in r.err


def test_hold_add_release_and_list(initialised: Run) -> None:
    run = initialised
    item = _setup(run)
    r = run("hold", "add", item[:8], "--reason", "Smith v. Acme", "--json")
    assert r.code == 0, r.err
    hold = r.json()
    assert (hold["item"], hold["scope"], hold["active"]) == (  # type: ignore[index]
        item, "item", True)
    r = run("hold", "add", "acme-2026", "--reason", "regulator inquiry")
    assert r.code == 0 and "on every item of acme-2026" in r.text
    listed = run("holds", "--json").json()
    assert {h["scope"] for h in listed} == {"item", "engagement"}  # type: ignore[union-attr,index]
    text = run("holds").text
    assert text.startswith("HOLD") and "Smith v. Acme" in text and "(all items)" in text
    [row] = run("retention", "status", "--json").json()  # type: ignore[misc]
    assert row["held"] is True and len(row["holds"]) == 2
    r = run("hold", "release", hold["id"][:8], "--reason", "settled")  # type: ignore[index]
    assert r.code == 0 and "released" in r.text
    assert len(run("holds", "--json").json()) == 1  # type: ignore[arg-type]
    assert len(run("holds", "--all", "--json").json()) == 2  # type: ignore[arg-type]
    r = run("hold", "add", item, "--reason", "card 4111 1111 1111 1111")
    assert r.code == 2 and "4111 1111 1111 1111" not in r.err
    assert r.err.startswith("vault: error:")
    r = run("hold", "release", "0000ffff", "--reason", "x")
    assert r.code == 2 and "no hold 0000ffff" in r.err
    r = run("hold", "add", "nothing-here", "--reason", "x")
    assert r.code == 2 and "no engagement or item 'nothing-here'" in r.err
