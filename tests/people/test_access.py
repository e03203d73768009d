"""Access control without a back door: the permission matrix cell by cell through the CLI with
several real identities, key rotation on removal, and an administrator who reads nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.conftest import PASSPHRASE, Result
from vault.age import X25519Identity
from vault.crypto import keys
from vault.errors import AuthenticationError
from vault.metadata.models import AuditEvent, KeyGrant
from vault.people import access

Run = Callable[..., Result]

# The expected matrix, written out here independently of vault/people/access.py.
EXPECTED: dict[str, set[str]] = {
    "vault.status": {"lead", "assessor", "qa", "viewer", "outsider", "admin", "job"},
    "engagement.create": {"lead", "assessor", "qa", "viewer", "outsider", "admin"},
    "engagement.view": {"lead", "assessor", "qa", "viewer", "admin"},
    "engagement.complete": {"lead"},
    "engagement.retention": {"lead"},
    "retention.view": {"lead", "assessor", "qa", "viewer", "admin", "job"},
    "retention.overview": {"lead", "assessor", "qa", "viewer", "outsider", "admin", "job"},
    "hold.place": {"lead", "qa", "admin"},
    "hold.release": {"admin"},
    "item.ingest": {"lead", "assessor"},
    "item.list": {"lead", "assessor", "qa", "viewer"},
    "item.read": {"lead", "assessor", "qa", "viewer"},
    "item.read-quarantined": {"lead", "qa"},
    "item.verify": {"lead", "assessor", "qa"},
    "flag.list": {"lead", "assessor", "qa", "viewer"},
    "flag.resolve": {"lead", "qa"},
    "user.add": {"admin"},
    "user.list": {"admin"},
    "user.certify": {"admin"},
    "member.add": {"lead"},
    "member.remove": {"lead"},
    "member.list": {"lead", "assessor", "qa", "viewer", "admin"},
    "audit.read": {"lead", "qa", "admin"},
    "audit.read-all": {"admin"},
    "audit.verify": {"admin"},
    "audit.proof": {"admin"},
    "audit.export": {"admin"},
    "audit.checkpoint": {"admin", "job"},
    "audit.prune": {"admin", "job"},
    "certificate.list": {"lead", "qa", "admin", "job"},
    "certificate.show": {"lead", "qa", "admin", "job"},
    "certificate.export": {"admin", "job"},
    "signing.export": {"lead", "assessor", "qa", "viewer", "outsider", "admin", "job"},
    "signing.rotate": {"admin"},
    "store.check": {"lead", "assessor", "qa", "viewer", "outsider", "admin", "job"},
    "store.doctor": {"admin"},
    "catalogue.view": {"lead", "assessor", "qa", "viewer", "outsider", "admin"},
    "catalogue.load": {"admin"},
    "retention.destroy": {"job"},
    "item.disclose": {"lead", "qa"},
    "item.roc-ref": {"lead", "assessor", "qa"},
    "recipient.add": {"admin"},
    "recipient.list": {"lead", "assessor", "qa", "viewer", "outsider", "admin"},
    "recipient.remove": {"admin"},
    "export.create": {"lead", "qa"},
    "export.list": {"lead", "qa"},
}
USERS = ["lead", "assessor", "qa", "viewer", "outsider", "admin", "job"]
# Luhn-valid 16-digit Visa test numbers with distinct first 6 / last 4 digits
_PANS = ["4111111111111111", "4012888888881881", "4222222222222220", "4917610000000000",
         "4000056655665556", "4242424242424242", "4462030000000000"]


def _roles_of(user: str) -> set[str]:
    """What the vault should see for each test user on the engagement."""
    return {"lead": {"lead", "person"}, "assessor": {"assessor", "person"},
            "qa": {"qa", "person"}, "viewer": {"viewer", "person"},
            "outsider": {"person"}, "admin": {"admin", "person"},
            "job": {"destruction-job"}}[user]


def test_expected_table_matches_the_matrix() -> None:
    assert set(EXPECTED) == set(access.MATRIX)
    for action, users in EXPECTED.items():
        assert {u for u in USERS if access.allowed(action, _roles_of(u))} == users, action


@pytest.fixture(scope="module")
def identity_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ids")
    out = {}
    for name in USERS + ["extra", "newbie"]:
        out[name] = d / f"{name}.age"
        keys.create_identity(out[name], PASSPHRASE)
    return out


@pytest.fixture
def firm(run: Run, identity_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Callable[..., Result]:
    """admin (first user), lead (creates engagement E with one item), assessor/qa/viewer
    members, an outsider, the destruction job, and an `extra` person."""
    def as_(user: str, *args: str, stdin: bytes = b"") -> Result:
        monkeypatch.setenv("VAULT_IDENTITY", str(identity_files[user]))
        return run(*args, stdin=stdin)

    assert as_("admin", "init", "--name", "admin").code == 0
    for user in USERS[:-2] + ["extra"]:
        rec = as_(user, "init", "--join", "--json").json()["recipient"]  # type: ignore[index]
        role = []
        assert as_("admin", "user", "add", user, "--recipient", rec, *role).code == 0
    rec = as_("job", "init", "--join", "--json").json()["recipient"]  # type: ignore[index]
    assert as_("admin", "user", "add", "job", "--recipient", rec, "--role",
               "destruction-job").code == 0
    assert as_("lead", "engagement", "create", "E", "--client", "c", "--standard",
               "pci-dss-4.0.1").code == 0
    for user in ("assessor", "qa", "viewer"):
        assert as_("lead", "member", "add", "E", user, "--role", user).code == 0
    r = as_("lead", "ingest", "E", "-", "--name", "first.txt", "--json", stdin=b"first")
    as_.item = r.json()[0]["id"]  # type: ignore[attr-defined,index]
    # one distinct card number (so one flag) for each user to resolve
    cards = "\n".join(f"card {pan}" for pan in _PANS).encode()
    r = as_("lead", "ingest", "E", "-", "--name", "cards.log", "--json", stdin=cards)
    assert r.code == 0 and r.json()[0]["state"] == "quarantined"  # type: ignore[index]
    as_.held = r.json()[0]["id"]  # type: ignore[attr-defined,index]
    flags = as_("lead", "flags", "E", "--json").json()
    by_value = {f["masked"]: f["id"] for f in flags}  # type: ignore[union-attr,index]
    as_.flags = {u: by_value[p[:6] + "******" + p[-4:]]  # type: ignore[attr-defined]
                 for u, p in zip(USERS, _PANS, strict=True)}
    r = as_("lead", "hold", "add", as_.item, "--reason", "matter", "--json")  # type: ignore[attr-defined]
    as_.hold = r.json()["id"]  # type: ignore[attr-defined,index]
    assert as_("admin", "recipient", "add", "QA", "--type", "council", "--age-recipient",
               str(X25519Identity.generate().recipient)).code == 0
    assert as_("admin", "audit", "checkpoint").code == 0
    return as_


def _catalogue_file(tmp: Path) -> Path:
    """A firm's catalogue file extending PCI 3DS Core with one sub-requirement."""
    path = tmp / "firm-3ds.json"
    path.write_text('{"standard": "pci-3ds-1.0", "title": "PCI 3DS Core Security Standard '
                    'v1.0", "requirements": [{"id": "P2-1.1", "title": "Firm: 3DS scope '
                    'documented"}]}', encoding="utf-8")
    return path


def _commands(user: str, item: str, tmp: Path, recipient: str,
              flag: str, held: str, hold: str = "") -> dict[str, list[str]]:
    return {
        "vault.status": ["status"],
        "engagement.create": ["engagement", "create", f"new-{user}", "--client", "c",
                              "--standard", "pci-3ds-1.0"],
        "engagement.view": ["engagement", "show", "E"],
        "engagement.complete": ["engagement", "complete", "E", "--date", "2026-06-30"],
        "engagement.retention": ["engagement", "retention", "E", "--years", "4"],
        "retention.view": ["retention", "status", "E"],
        "retention.overview": ["retention", "status", "--upcoming", "5000"],
        "hold.place": ["hold", "add", item, "--reason", f"matter of {user}"],
        "hold.release": ["hold", "release", hold, "--reason", "settled"],
        "item.ingest": ["ingest", "E", "-", "--name", f"by-{user}.txt"],
        "item.list": ["ls", "E"],
        "item.read": ["get", item, "-o", str(tmp / f"get-{user}")],
        "item.read-quarantined": ["get", held, "--quarantined", "-o",
                                  str(tmp / f"held-{user}")],
        "item.verify": ["verify", item],
        "flag.list": ["flags", "E"],
        "flag.resolve": ["flag", "resolve", flag, "--false-positive", "--reason", "test data"],
        "user.add": ["user", "add", f"u-{user}", "--recipient", recipient],
        "user.list": ["users"],
        "user.certify": ["user", "certify", "lead"],
        "member.add": ["member", "add", "E", "extra", "--role", "viewer"],
        "member.remove": ["member", "remove", "E", "extra"],
        "member.list": ["members", "E"],
        "audit.read": ["audit", "--engagement", "E"],
        "audit.read-all": ["audit"],
        "audit.verify": ["audit", "verify"],
        "audit.proof": ["audit", "proof", "1"],
        "audit.export": ["audit", "export", "-o", str(tmp / f"audit-{user}.jsonl")],
        "audit.checkpoint": ["audit", "checkpoint"],
        "audit.prune": ["audit", "prune"],
        "certificate.list": ["certificates", "--engagement", "E"],
        "certificate.show": ["certificate", "show", "CERT", "--engagement", "E"],
        "certificate.export": ["certificate", "export", "CERT", "-o", str(tmp)],
        "signing.export": ["signing-key", "export", "-o", str(tmp / f"pub-{user}.pem")],
        "signing.rotate": ["signing-key", "rotate"],
        "store.check": ["store", "check"],
        "store.doctor": ["doctor"],
        "catalogue.view": ["catalogue", "show", "pci-3ds-1.0"],
        "catalogue.load": ["catalogue", "load", str(_catalogue_file(tmp))],
        "retention.destroy": ["destroy", "--due"],
        "item.disclose": ["disclosure", "set", item,
                          "council-only" if user == "qa" else "client", "--reason", "test"],
        "item.roc-ref": ["item", "set", item, "--roc-ref", f"R-{user}"],
        "recipient.add": ["recipient", "add", f"r-{user}", "--type", "council",
                          "--age-recipient", recipient],
        "recipient.list": ["recipient", "list"],
        "recipient.remove": ["recipient", "remove", f"r-{user}"],
        "export.create": ["export", "E", "--to", "QA", "--request-ref", "QA-1", "-o",
                          str(tmp / f"export-{user}.age"), "--dry-run"],
        "export.list": ["exports", "E"],
    }


def test_matrix_cell_by_cell_through_the_cli(firm, tmp_path: Path, cli_env,  # type: ignore[no-untyped-def]
                                             identity_files) -> None:
    """Every (role, action) cell, in one firm: actions run in the matrix's order, so member.add
    (by the lead) precedes member.remove."""
    from vault.metadata.db import open_database
    engine = open_database(cli_env.db_url)
    from tests.retention.test_certificate import issue_for_cli
    eng = firm("lead", "engagement", "show", "E", "--json").json()["id"]
    cert = issue_for_cli(cli_env.db_url, identity_files["admin"], [(firm.item, eng)])
    for action, user in [(a, u) for a in EXPECTED for u in USERS]:
        recipient = str(X25519Identity.generate().recipient)
        args = _commands(user, firm.item, tmp_path, recipient, firm.flags[user],
                         firm.held, firm.hold)[action]
        args = [cert if x == "CERT" else x for x in args]
        r = firm(user, *args, stdin=f"content by {user}".encode())
        if user in EXPECTED[action]:
            assert r.code == 0, (action, user, r.err)
        else:
            assert r.code == 2, (action, user, r.err)
            assert "may not" in r.err, (action, user, r.err)
            with Session(engine) as s:
                last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()  # type: ignore[union-attr]
            assert last is not None
            assert (last.actor, last.action, last.outcome) == (user, action, "denied")


def test_removed_member_cannot_read_items_added_after_rotate(firm, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             cli_env, identity_files) -> None:
    assert firm("lead", "member", "add", "E", "extra", "--role", "viewer").code == 0
    assert firm("extra", "get", firm.item, "-o", str(tmp_path / "before")).code == 0
    # extra keeps a copy of the engagement key it could unwrap while a member
    from vault.metadata.db import open_database
    engine = open_database(cli_env.db_url)
    extra_id = keys.load_identity(identity_files["extra"], PASSPHRASE)
    with Session(engine) as s:
        old_grants = {g.key_id: g.wrapped for g in s.exec(select(KeyGrant)).all()
                      if keys.unwrap_bytes_ok(g.wrapped, extra_id)}
    assert old_grants
    assert firm("lead", "member", "remove", "E", "extra", "--rotate").code == 0
    r = firm("lead", "ingest", "E", "-", "--name", "after.txt", "--json", stdin=b"after")
    new_item = r.json()[0]["id"]  # type: ignore[index]
    denied = firm("extra", "get", new_item, "-o", str(tmp_path / "after"))
    assert denied.code == 2 and "may not" in denied.err
    with Session(engine) as s:
        from vault.metadata.models import EvidenceItem
        item = s.get(EvidenceItem, new_item)
        assert item is not None
        assert item.key_id not in old_grants            # new items use the new key
        assert s.exec(select(KeyGrant).where(KeyGrant.key_id == item.key_id)).all()
        assert not any(keys.unwrap_bytes_ok(g.wrapped, extra_id)
                       for g in s.exec(select(KeyGrant)).all())
    # remaining members read both old and new items
    for user in ("lead", "viewer"):
        for it in (firm.item, new_item):
            assert firm(user, "get", it, "-o", str(tmp_path / f"{user}-{it}")).code == 0


def test_admin_reads_nothing_even_with_the_check_bypassed(firm, tmp_path: Path, cli_env,  # type: ignore[no-untyped-def]
                                                         identity_files,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    r = firm("admin", "get", firm.item, "-o", str(tmp_path / "x"))
    assert r.code == 2 and "admin may not read the evidence of engagement" in r.err
    monkeypatch.setattr(access, "allowed", lambda action, roles: True)
    r = firm("admin", "get", firm.item, "-o", str(tmp_path / "x"))
    assert r.code == 2 and "you hold no key for this engagement" in r.err
    assert not (tmp_path / "x").exists()
    # and with full DB access, none of the grants opens with the admin's identity
    from vault.metadata.db import open_database
    admin_id = keys.load_identity(identity_files["admin"], PASSPHRASE)
    with Session(open_database(cli_env.db_url)) as s:
        grants = s.exec(select(KeyGrant)).all()
    assert grants
    for g in grants:
        with pytest.raises(AuthenticationError):
            keys.unwrap_identity(g.wrapped, admin_id)


def test_unregistered_identity_is_refused(firm, identity_files) -> None:  # type: ignore[no-untyped-def]
    r = firm("newbie", "ls", "E")
    assert r.code == 2
    assert r.err.startswith("vault: error: your identity is not registered in this vault")
    assert "vault: hint: ask an administrator to add your recipient age1" in r.err


def test_no_secret_reaches_the_audit_log(firm, cli_env, identity_files) -> None:  # type: ignore[no-untyped-def]
    from vault.metadata.db import open_database
    with Session(open_database(cli_env.db_url)) as s:
        dump = repr([e.model_dump() for e in s.exec(select(AuditEvent)).all()])
    assert PASSPHRASE not in dump and "AGE-SECRET-KEY" not in dump
    assert "first" not in dump.replace("first.txt", "")  # evidence content
    for path in identity_files.values():
        assert path.read_bytes()[:40].decode(errors="replace") not in dump
    assert not os.environ.get("VAULT_PASSPHRASE", "") or os.environ["VAULT_PASSPHRASE"] not in dump
