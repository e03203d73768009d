"""The evidence list's text search and paging (vault/service/browse.py) over item_search, the narrow
copy of evidence_item that database triggers keep (migration 0004), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage_backends import LocalStore
from tests.conftest import StepClock
from vault.age import X25519Identity
from vault.evidence.sources import Source
from vault.metadata import db
from vault.metadata.models import EvidenceItem, ItemSearch
from vault.service import IngestOptions, ItemFilter, Vault, bootstrap

ENG = "acme-2026"


def mem(name: str, data: bytes) -> Source:
    return Source(name=name, size=len(data), open=lambda: io.BytesIO(data))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'v.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    eng = db.open_database(url)
    yield eng
    eng.dispose()


@pytest.fixture
def vault(engine: Engine, tmp_path: Path) -> Vault:
    clock = StepClock()
    ident = X25519Identity.generate()
    bootstrap._register_first(engine, ident, "alice", clock, os.urandom)
    v = Vault(engine, LocalStore(tmp_path / "objects", clock=clock), ident,
              tmp_dir=tmp_path / "tmp", clock=clock)
    v.create_engagement(ENG, client="Acme", standard="pci-dss-4.0.1")
    return v


def ingest(vault: Vault, name: str, data: bytes, **opts: object) -> str:
    [r] = vault.ingest(ENG, [mem(name, data)], IngestOptions(**opts))  # type: ignore[arg-type]
    assert not isinstance(r, Exception), r
    return r.view.item.id


def names(vault: Vault, text: str) -> list[str]:
    listed = [v.item.original_name for v in vault.list_items(ENG, ItemFilter(text=text))]
    assert vault.count_items(ENG, ItemFilter(text=text)) == len(listed)
    page = vault.item_page(ENG, ItemFilter(text=text), cap=100)
    assert [v.item.original_name for v in page.items] == listed and page.total == len(listed)
    return listed


def search_rows(engine: Engine) -> dict[str, tuple[str, str, str]]:
    with Session(engine) as s:
        return {r.item_id: (r.state, r.disclosure, r.body)
                for r in s.exec(select(ItemSearch)).all()}


def test_search_is_a_case_insensitive_substring_of_name_description_or_system(
        vault: Vault) -> None:
    ingest(vault, "Firewall-Rules.TXT", b"1", description="Quarterly REVIEW", system="FW-01")
    ingest(vault, "router.cfg", b"2", system="core-rtr")
    ingest(vault, "100%_done.txt", b"3")
    ingest(vault, "1000-done.txt", b"4")
    assert names(vault, "firewall") == ["Firewall-Rules.TXT"]
    assert names(vault, "RULES.t") == ["Firewall-Rules.TXT"]
    assert names(vault, "quarterly rev") == ["Firewall-Rules.TXT"]  # description
    assert names(vault, "fw-0") == ["Firewall-Rules.TXT"]  # system
    assert names(vault, "RTR") == ["router.cfg"]
    assert names(vault, "r") == ["Firewall-Rules.TXT", "router.cfg"]  # one letter scans too
    # LIKE wildcards and the escape character match only themselves.
    assert names(vault, "0%_") == ["100%_done.txt"]
    assert names(vault, "%") == ["100%_done.txt"]
    assert names(vault, "_") == ["100%_done.txt"]
    assert names(vault, "/") == []
    # The fields are searched one by one, not as one string.
    assert names(vault, "txtquarterly") == [] and names(vault, "review\x1ffw") == []
    assert names(vault, "txt\x1f") == []
    assert names(vault, "nothing like it") == []


def test_item_search_follows_inserts_updates_and_deletes(vault: Vault, engine: Engine) -> None:
    a = ingest(vault, "a.txt", b"a", description="old words")
    b = ingest(vault, "b.txt", b"b")
    with Session(engine) as s:
        items = {i.id: i for i in s.exec(select(EvidenceItem)).all()}
    assert search_rows(engine) == {
        a: ("active", "team", "a.txt\x1fold words\x1f"), b: ("active", "team", "b.txt\x1f\x1f")}
    with Session(engine) as s:  # whatever writes evidence_item, item_search follows
        s.execute(sa.update(EvidenceItem).where(col(EvidenceItem.id) == a).values(
            description="New Words", disclosure="client", state="shredded"))
        s.execute(sa.update(EvidenceItem).where(col(EvidenceItem.id) == b).values(
            age_header=None, size=2))
        s.commit()
    assert search_rows(engine)[a] == ("shredded", "client", "a.txt\x1fnew words\x1f")
    assert names(vault, "old") == [] and names(vault, "new words") == ["a.txt"]
    with Session(engine) as s:
        s.execute(sa.update(EvidenceItem).where(col(EvidenceItem.id) == b).values(
            state="pending"))
        s.commit()
        s.delete(s.get(EvidenceItem, b))
        s.commit()
    assert set(search_rows(engine)) == {a}
    assert len(items) == 2


def test_other_filters_combine_with_the_search(vault: Vault) -> None:
    ingest(vault, "fw-a.txt", b"1", kind="config_export", requirements=("1.2.1",))
    ingest(vault, "fw-b.txt", b"2", kind="log_export", disclosure="client")
    ingest(vault, "other.txt", b"3", kind="log_export", requirements=("1.2.1",))
    for flt, want in [(ItemFilter(text="fw", kind="log_export"), ["fw-b.txt"]),
                      (ItemFilter(text="fw", requirement="1.2.1"), ["fw-a.txt"]),
                      (ItemFilter(text="fw", disclosure="client"), ["fw-b.txt"]),
                      (ItemFilter(text="fw", state="shredded"), []),
                      (ItemFilter(requirement="1.2.1"), ["fw-a.txt", "other.txt"])]:
        listed = [v.item.original_name for v in vault.list_items(ENG, flt)]
        assert listed == want, flt
        assert vault.count_items(ENG, flt) == len(want)
        assert [v.item.original_name for v in vault.item_page(ENG, flt).items] == want


def test_item_page_pages_in_list_order_and_caps_the_count(vault: Vault) -> None:
    for i in range(12):
        ingest(vault, f"log-{i:02}.txt", f"{i}".encode(), requirements=("10.2.1",))
    everything = [v.item.id for v in vault.list_items(ENG)]
    page = vault.item_page(ENG, ItemFilter(offset=5), size=5)
    assert (page.offset, page.total, page.exact) == (5, 12, True)
    assert [v.item.id for v in page.items] == everything[5:10]
    assert page.items[0].requirements == ("10.2.1",) and page.items[0].ingested_by == "alice"
    # An offset past the end moves to the last page.
    page = vault.item_page(ENG, ItemFilter(offset=50), size=5)
    assert (page.offset, [v.item.id for v in page.items]) == (10, everything[10:])
    # A capped count: exact up to the cap, cap + 1 beyond it.
    page = vault.item_page(ENG, ItemFilter(text="log"), size=5, cap=12)
    assert (page.total, page.exact) == (12, True)
    page = vault.item_page(ENG, ItemFilter(text="log"), size=5, cap=7)
    assert (page.total, page.exact, len(page.items)) == (8, False, 5)
    # A page beyond the cap is still the right page.
    page = vault.item_page(ENG, ItemFilter(text="log", offset=10), size=5, cap=7)
    assert (page.offset, page.total, page.exact) == (10, 8, False)
    assert [v.item.id for v in page.items] == everything[10:]
    assert vault.item_page(ENG, ItemFilter(text="zzz"), cap=7).items == []
    # Past the end with a cap, whether one scan saw every match (cap 100) or not (cap 20).
    for cap in (100, 20):
        page = vault.item_page(ENG, ItemFilter(text="log", offset=50), size=5, cap=cap)
        assert (page.offset, page.total, page.exact) == (10, 12, True)
        assert [v.item.id for v in page.items] == everything[10:]


def test_upgrading_fills_item_search_from_existing_items(tmp_path: Path,
                                                         make_vault: Callable[..., Vault],
                                                         alice_id: X25519Identity) -> None:
    from alembic import command

    v = make_vault(alice_id)
    v.create_engagement(ENG, client="Acme", standard="pci-dss-4.0.1")
    [r] = v.ingest(ENG, [mem("Before-Upgrade.txt", b"x")], IngestOptions(system="S1"))
    assert not isinstance(r, Exception)
    cfg = db._alembic_config()
    with v.engine.begin() as conn:  # back to 0003, as a vault made before this table
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert not sa.inspect(v.engine).has_table("item_search")
    db.upgrade(v.engine)
    assert search_rows(v.engine) == {r.view.item.id: ("active", "team",
                                                      "before-upgrade.txt\x1f\x1fs1")}
    assert [x.item.id for x in v.list_items(ENG, ItemFilter(text="UPGRADE"))] == [r.view.item.id]


# -- the trigram index (SQLite, migration 0006) finds what a scan finds --------------------------

CORPUS = [  # (name, description, system)
    ("100%_done.txt", None, None),
    ("under_score.log", "50% reviewed", None),
    ('quote"d "name".txt', None, None),
    ("star*and^caret(1).txt", "NEAR/2 AND OR NOT", None),
    ("Ärende-Übersicht.PDF", None, "fw-01"),
    ("ärende-klein.txt", "Quarterly REVIEW", "Core-RTR"),
    ("証跡ファイル一覧.txt", None, None),
    ("emoji-📄-notes.md", None, None),
    ("MiXeD-Case.TXT", "back\\slash", None),
    ("log-000100.txt", None, None),
    ("log-001000.txt", None, None),
    ("LOG-010000.TXT", None, None),
]
QUERIES = ["%", "_", "0%_", "%_d", '"', '"d ', '"name"', "*", "*and", "^", "(1)", "near/2",
           "and or", "not", "\\", "\\sl", "ärende", "Ärende", "ÄRENDE", "übersicht", "Übersicht",
           "証跡", "証跡ファ", "ファイル", "📄", "-📄-", "mixed", "MIXED-case", "log", "log-0",
           "-00", "-001", "000", "0000", "txt", ".t", "t", "e", "quarterly rev", "rev", "fw-0",
           "core-rtr", "txt\x1f", "review\x1fcore", "nothing like it", "x" * 40]


@pytest.fixture
def corpus(vault: Vault) -> dict[str, str]:
    """The corpus ingested in order: name -> the searchable body as the database folded it."""
    for i, (name, description, system) in enumerate(CORPUS):
        ingest(vault, name, f"{i}".encode(), description=description, system=system)
    with Session(vault.engine) as s:
        return {name: s.execute(sa.select(sa.func.lower(sa.literal(
            "\x1f".join((name, description or "", system or "")))))).scalar_one()
            for name, description, system in CORPUS}


def oracle(vault: Vault, corpus: dict[str, str], text: str) -> list[str]:
    """What a search must find: the names whose folded body holds the folded text."""
    with Session(vault.engine) as s:
        needle = s.execute(sa.select(sa.func.lower(sa.literal(text)))).scalar_one()
    if "\x1f" in text:
        return []
    return [name for name, body in corpus.items() if needle in body]


def scan_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.evidence import search
    monkeypatch.setattr(search, "has_fts", lambda s: False)


def test_a_search_finds_exactly_its_substring_through_the_index_or_a_scan(
        vault: Vault, corpus: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.evidence import search

    used: list[str] = []
    real = search.search_table

    def spy(s: Session, text: str | None) -> sa.Table:
        table = real(s, text)
        used.append(table.name)
        return table
    monkeypatch.setattr(search, "search_table", spy)
    monkeypatch.setattr("vault.service.browse.search_table", spy)
    for text in QUERIES:
        assert names(vault, text) == oracle(vault, corpus, text), text
    if vault.engine.dialect.name == "sqlite":  # the 3+ character searches went to the index
        assert used.count("item_fts_rows") >= 3 * len([q for q in QUERIES if len(q) >= 3
                                                         and "\x1f" not in q])
    scan_only(monkeypatch)
    for text in QUERIES:
        assert names(vault, text) == oracle(vault, corpus, text), text


def test_a_search_too_broad_for_the_index_scans_instead(
        vault: Vault, corpus: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.evidence import search

    monkeypatch.setattr(search, "FTS_MAX", 2)
    for text in ("txt", "log", "-00", "ärende", "証跡ファ"):
        assert names(vault, text) == oracle(vault, corpus, text), text
    with Session(vault.engine) as s:
        assert search.search_table(s, "txt") is search.ITEM_SEARCH
        expected = search.ITEM_FTS_ROWS if vault.engine.dialect.name == "sqlite" \
            else search.ITEM_SEARCH
        assert search.search_table(s, "証跡ファ") is expected


@pytest.mark.parametrize("path", ["index", "scan"])
def test_paging_and_the_capped_count_are_the_same_either_way(
        vault: Vault, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    if path == "scan":
        scan_only(monkeypatch)
    for i in range(23):
        ingest(vault, f"log-{i:02}.txt", f"{i}".encode())
    ingest(vault, "other.txt", b"x")
    everything = [v.item.id for v in vault.list_items(ENG, ItemFilter(text="log"))]
    assert len(everything) == 23
    for offset in (0, 5, 20, 23, 40):
        for cap in (None, 7, 23, 30):
            page = vault.item_page(ENG, ItemFilter(text="log", offset=offset), size=5, cap=cap)
            if cap is not None and cap < 23:
                assert (page.total, page.exact) == (cap + 1, False)
                want_offset = offset
            else:
                assert (page.total, page.exact) == (23, True)
                want_offset = offset if offset < 23 else 20
            assert page.offset == want_offset, (offset, cap)
            assert [v.item.id for v in page.items] == everything[want_offset:want_offset + 5]
    assert vault.item_page(ENG, ItemFilter(text="zzz", offset=10), cap=7).items == []
    assert vault.count_items(ENG, ItemFilter(text="log")) == 23


def test_the_index_follows_every_change_of_item_search(vault: Vault, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the trigram index is SQLite's")
    a = ingest(vault, "alpha.txt", b"a", description="first words")
    b = ingest(vault, "beta.txt", b"b")

    def check() -> None:
        with engine.begin() as conn:  # FTS5 raises if the index and its content disagree
            conn.execute(sa.text("INSERT INTO item_fts(item_fts) VALUES ('integrity-check')"))
            fts = dict(conn.execute(sa.text(
                "SELECT r.item_id, f.body FROM item_fts f JOIN item_fts_rows r "
                "ON r.rid = f.rowid")).all())
            rows = {r[0]: r[1:] for r in conn.execute(sa.text(
                "SELECT item_id, engagement_id, ingested_at, state, kind, disclosure "
                "FROM item_fts_rows")).all()}
            search = conn.execute(sa.text(
                "SELECT item_id, body, engagement_id, ingested_at, state, kind, disclosure "
                "FROM item_search")).all()
        assert fts == {r[0]: r[1] for r in search}
        assert rows == {r[0]: r[2:] for r in search}
    check()
    with Session(engine) as s:
        s.execute(sa.update(EvidenceItem).where(col(EvidenceItem.id) == a).values(
            description="Second Words", state="shredded"))
        s.execute(sa.update(EvidenceItem).where(col(EvidenceItem.id) == b).values(
            disclosure="client", size=9))
        s.commit()
    check()
    assert names(vault, "first") == [] and names(vault, "second wo") == ["alpha.txt"]
    with Session(engine) as s:
        s.execute(sa.update(EvidenceItem).where(col(EvidenceItem.id) == b).values(
            state="pending"))
        s.commit()
        s.delete(s.get(EvidenceItem, b))
        s.commit()
    check()
    assert names(vault, "beta") == []
