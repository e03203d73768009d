"""The `vault` command line: argument parsing and printing only; all work is the service's.

This module builds the parser and runs one verb: the verbs live in one module per group
(:mod:`vault.cli.people`, ``engagements``, ``evidence``, ``scan``, ``review``, ``audit``,
``store``, ``agent``, ``catalogue``), each a :class:`~vault.cli.base.Command`.

Errors: every VaultError becomes `vault: error: ...` (and `vault: hint: ...`) on stderr, exit 2
(:func:`vault.cli.errors.report_error`). `vault verify` exits 1 when it found a damaged item.
Every verb takes --json.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, cast

from vault import catalogue
from vault.cli.agent import Session
from vault.cli.audit import Audit
from vault.cli.base import EXIT_ERROR, Command
from vault.cli.catalogue import Catalogues
from vault.cli.certificates import Certificates
from vault.cli.destroy import Destroy
from vault.cli.engagements import Engagements
from vault.cli.errors import report_error
from vault.cli.evidence import Evidence
from vault.cli.exports import Exports
from vault.cli.people import People
from vault.cli.retention import Retention
from vault.cli.review import Review
from vault.cli.scan import Scan
from vault.cli.store import Store
from vault.config import Settings
from vault.errors import StorageError, VaultError
from vault.evidence.vocabulary import DISCLOSURES, KINDS, RECIPIENT_TYPES
from vault.people import access

GROUPS: tuple[type[Command], ...] = (People, Engagements, Evidence, Scan, Review, Audit, Store,
                                     Session, Catalogues, Retention, Certificates, Exports)
GROUPS += (Destroy,)
VERBS: dict[str, type[Command]] = {verb: group for group in GROUPS for verb in group.VERBS}
"""Each command to the group that runs it."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


class _Unused:
    """Stands for the parser of a command the command line does not name: every argument,
    subcommand and group added to it is dropped (building all of them cost some 15 ms of CPU
    on every command)."""

    def __getattr__(self, name: str) -> Callable[..., _Unused]:
        return lambda *args, **kwargs: self


def _command_word(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first word after the top level's --json; None when
    anything else comes first (the top level's help, a mistake)."""
    return next((a for a in argv if a != "--json"), None)


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser; given `argv`, one holding only the command it names (the
    same parse, usage and errors), else every command (help, a mistyped command)."""
    chosen = _command_word(argv) if argv is not None else None
    p, named = _build(chosen)
    return p if chosen is None or named else _build(None)[0]


def _build(chosen: str | None) -> tuple[argparse.ArgumentParser, bool]:
    # --json before or after the command; a subcommand's default must not undo a --json given
    # before it (argparse lets a subparser's defaults override the parent's values)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="machine-readable output")
    p = argparse.ArgumentParser(prog="vault", description="Evidence Vault: encrypted PCI "
                                "assessment evidence.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    named = False

    def cmd(name: str, help: str, parent: Any = sub) -> argparse.ArgumentParser:
        nonlocal named
        if parent is sub and chosen is not None:
            if name != chosen:
                return cast(argparse.ArgumentParser, _Unused())
            named = True
        return parent.add_parser(name, help=help, parents=[common])  # type: ignore[no-any-return]

    c = cmd("init", "create the vault and your personal identity (safe to re-run)")
    c.add_argument("--name", help="your name in the vault (default: login name)")
    c.add_argument("--demo", action="store_true",
                   help="add a demo engagement with synthetic evidence when there is none")
    c.add_argument("--tui", action="store_true",
                   help="then open the terminal UI, without asking the passphrase again")
    c.add_argument("--join", action="store_true",
                   help="join an existing vault: make your identity and print your recipient")
    ident = cmd("identity", "your personal identity")
    isub = ident.add_subparsers(dest="icmd", required=True, metavar="ACTION")
    cmd("create", "make a passphrase-protected identity and print its recipient", isub)
    user = cmd("user", "register people (administrators)")
    usub = user.add_subparsers(dest="ucmd", required=True, metavar="ACTION")
    c = cmd("add", "register a person by their recipient", usub)
    c.add_argument("name")
    c.add_argument("--recipient", required=True, metavar="age1...")
    c.add_argument("--role", choices=access.FIRM_ROLES, help="a firm-wide role")
    c = cmd("certify", "certify a person's signing key with the firm key (X.509), so they "
                       "can sign exports; again to renew", usub)
    c.add_argument("name")
    c.add_argument("--days", type=int, default=365, help="validity (default 365)")
    cmd("users", "registered people")
    mem = cmd("member", "add or remove engagement members")
    msub = mem.add_subparsers(dest="mcmd", required=True, metavar="ACTION")
    c = cmd("add", "grant a person a role (and the engagement key)", msub)
    c.add_argument("engagement")
    c.add_argument("user")
    c.add_argument("--role", required=True, choices=access.ENGAGEMENT_ROLES)
    c = cmd("remove", "remove a member and their key grants", msub)
    c.add_argument("engagement")
    c.add_argument("user")
    c.add_argument("--rotate", action="store_true",
                   help="give the engagement a new key for new items")
    c = cmd("members", "an engagement's members")
    c.add_argument("engagement")
    au = cmd("audit", "the audit log: list, verify, checkpoint, proof, export")
    au.add_argument("--engagement")
    au.add_argument("--actor")
    au.add_argument("--action")
    au.add_argument("--limit", type=int)
    asub = au.add_subparsers(dest="acmd", required=False, metavar="ACTION")
    cmd("verify", "check the chain, the tree heads and their signatures", asub)
    cmd("checkpoint", "sign the current tree head", asub)
    c = cmd("proof", "inclusion proof of one event against the latest tree head", asub)
    c.add_argument("event", type=int, metavar="SEQ")
    c = cmd("export", "the whole log as JSON Lines with tree heads and public keys", asub)
    c.add_argument("-o", "--output", type=Path, required=True)
    cmd("prune", "clear events older than the audit retention (3 years) down to their hashes "
                 "(the destruction job, administrators)", asub)
    c = cmd("certificates", "destruction certificates (--engagement: those covering it)")
    c.add_argument("--engagement")
    cert = cmd("certificate", "one destruction certificate: show, export")
    certsub = cert.add_subparsers(dest="certcmd", required=True, metavar="ACTION")
    c = cmd("show", "its signed record and whether the signature verifies", certsub)
    c.add_argument("id", metavar="ID")
    c.add_argument("--engagement", help="as a lead or QA of it: only its items")
    c = cmd("export", "write CERT-ID.json, CERT-ID.json.sig and firm.pem for openssl", certsub)
    c.add_argument("id", metavar="ID")
    c.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    c = cmd("destroy", "destroy the evidence whose retention ended and no legal hold keeps "
                       "(the destruction job; time from the system clock)")
    c.add_argument("--due", action="store_true", required=True,
                   help="every item due now (required: nothing else is ever destroyed)")
    c.add_argument("--dry-run", action="store_true", help="only list what is due")
    c.add_argument("--limit", type=int, metavar="N", help="destroy at most N items this run")
    st = cmd("store", "the object store")
    stsub = st.add_subparsers(dest="stcmd", required=True, metavar="ACTION")
    cmd("check", "whether the store has versioning and Object Lock (WORM)", stsub)
    c = cmd("doctor", "find payloads without metadata, metadata without payloads, stalled "
                      "ingests and abandoned uploads")
    c.add_argument("--repair", action="store_true", help="clean what is safe (never live items)")
    sk = cmd("signing-key", "the firm's public signing key")
    ssub = sk.add_subparsers(dest="scmd", required=True, metavar="ACTION")
    c = cmd("export", "write the public key (PEM) for out-of-band handover", ssub)
    c.add_argument("-o", "--output", type=Path, required=True)
    c.add_argument("--all", action="store_true", help="every generation, newest first")
    c.add_argument("--ca", action="store_true",
                   help="the firm's CA certificate (X.509) instead of the bare public key")
    cmd("rotate", "a new signing key; old signatures stay verifiable", ssub)
    cmd("whoami", "who the identity in use is")
    c = cmd("agent", "unlock your identity once for this session (like ssh-agent): "
                     'eval "$(vault agent)"')
    c.add_argument("--timeout", default="8h", metavar="DURATION",
                   help="forget the identity and exit after this long (90s, 30m, 8h, 2d; "
                        "default 8h)")
    c.add_argument("--socket", type=Path, metavar="PATH",
                   help="where to listen (default: a private directory of yours)")
    c.add_argument("--foreground", action="store_true",
                   help="stay in the foreground instead of forking into the background")
    c.add_argument("--stop", action="store_true",
                   help="stop the agent named by $VAULT_AGENT_SOCK (or --socket)")
    cmd("tui", "the terminal UI (asks the passphrase unless the unlock agent runs or "
               "VAULT_PASSPHRASE is set)")
    cmd("status", "what this vault holds and where")

    eng = cmd("engagement", "create, list, show and complete engagements")
    esub = eng.add_subparsers(dest="ecmd", required=True, metavar="ACTION")
    c = cmd("create", "a new engagement (you become its lead)", esub)
    c.add_argument("name")
    c.add_argument("--client", required=True)
    c.add_argument("--standard", required=True, choices=catalogue.STANDARDS)
    c.add_argument("--period-start", type=_date)
    c.add_argument("--period-end", type=_date)
    cmd("list", "engagements you are a member of", esub)
    c = cmd("show", "one engagement", esub)
    c.add_argument("engagement")
    c = cmd("complete", "set the completion date (starts the retention clock)", esub)
    c.add_argument("engagement")
    c.add_argument("--date", type=_date, required=True)
    c = cmd("retention", "keep its evidence longer (never shorter) after completion; "
                         "extends the store's retention of every payload (leads)", esub)
    c.add_argument("engagement")
    c.add_argument("--years", type=int, required=True, metavar="N")

    ret = cmd("retention", "when evidence is due for destruction")
    rsub = ret.add_subparsers(dest="rcmd", required=True, metavar="ACTION")
    c = cmd("status", "each item's destruction date, days left and legal holds", rsub)
    c.add_argument("engagement", nargs="?", help="one engagement (default: all you may see)")
    c.add_argument("--upcoming", type=int, metavar="DAYS",
                   help="only items due within DAYS days (or overdue)")
    hold = cmd("hold", "legal holds: nothing they cover is destroyed")
    hsub = hold.add_subparsers(dest="hcmd", required=True, metavar="ACTION")
    c = cmd("add", "hold an item, or every item of an engagement (leads, QA, administrators)",
            hsub)
    c.add_argument("target", metavar="ITEM|ENGAGEMENT")
    c.add_argument("--reason", required=True, metavar="TEXT")
    c = cmd("release", "release a hold (administrators)", hsub)
    c.add_argument("hold", metavar="HOLD")
    c.add_argument("--reason", required=True, metavar="TEXT")
    c = cmd("holds", "legal holds (unreleased ones unless --all)")
    c.add_argument("--engagement")
    c.add_argument("--all", action="store_true", help="also released holds")

    cat = cmd("catalogue", "the requirement catalogues: list, show, load a firm's own")
    csub = cat.add_subparsers(dest="ccmd", required=True, metavar="ACTION")
    cmd("list", "each standard's catalogue, built-in or extended by the firm's file", csub)
    c = cmd("show", "a catalogue's requirement ids and titles (--json: the file format)", csub)
    c.add_argument("standard", metavar="STANDARD")
    c = cmd("load", "check a catalogue file (JSON, the format of `show --json`) and keep it "
                    "as the firm's extension of its standard (administrators)", csub)
    c.add_argument("file", type=Path, metavar="FILE")

    c = cmd("ingest", "encrypt files, directories or stdin (-) into an engagement")
    c.add_argument("engagement")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--kind", choices=KINDS)
    c.add_argument("--req", action="append", default=[], metavar="ID",
                   help="requirement id from the engagement's catalogue (repeatable)")
    c.add_argument("--disclosure", choices=DISCLOSURES, default="team")
    c.add_argument("--system", help="sampled system or component")
    c.add_argument("--description")
    c.add_argument("--name", help="original name for stdin (-)")
    c.add_argument("--allow-unlocked", action="store_true",
                   help="accept an S3 bucket without versioning and Object Lock")
    c.add_argument("--roc-ref", action="append", default=[], metavar="REF",
                   help="a reference number the ROC cites it by, e.g. DOC-12 (repeatable)")

    dis = cmd("disclosure", "an item's disclosure level: team, client, council-only")
    dsub = dis.add_subparsers(dest="dcmd", required=True, metavar="ACTION")
    c = cmd("set", "set an item's disclosure level (leads and QA; audited)", dsub)
    c.add_argument("item", metavar="ITEM")
    c.add_argument("level", choices=DISCLOSURES)
    c.add_argument("--reason", required=True, metavar="TEXT")
    it = cmd("item", "change an item's metadata")
    isub2 = it.add_subparsers(dest="itcmd", required=True, metavar="ACTION")
    c = cmd("set", "add or drop the ROC references an item is cited by (audited)", isub2)
    c.add_argument("item", metavar="ITEM")
    c.add_argument("--roc-ref", action="append", default=[], metavar="REF",
                   help="add a reference (repeatable)")
    c.add_argument("--drop-roc-ref", action="append", default=[], metavar="REF",
                   help="remove a reference (repeatable)")
    rc = cmd("recipient", "export recipients: add, list, remove (administrators)")
    rsub = rc.add_subparsers(dest="rcmd", required=True, metavar="ACTION")
    c = cmd("add", "register a recipient (its fingerprint is shown to compare out of band)",
            rsub)
    c.add_argument("name")
    c.add_argument("--type", required=True, choices=RECIPIENT_TYPES)
    c.add_argument("--age-recipient", required=True, metavar="age1...")
    c.add_argument("--client", help="for --type client: the client it is bound to")
    cmd("list", "the registered recipients", rsub)
    c = cmd("remove", "remove a recipient (its past exports stay listed)", rsub)
    c.add_argument("name")
    c = cmd("export", "a signed BagIt bundle of evidence, age-encrypted to a recipient "
                      "(leads and QA)")
    c.add_argument("engagement")
    c.add_argument("--to", required=True, metavar="RECIPIENT")
    c.add_argument("--request-ref", required=True, metavar="REF",
                   help="the request's reference (e.g. the QA request number)")
    c.add_argument("-o", "--output", type=Path, metavar="FILE")
    c.add_argument("--roc-ref", action="append", default=[], metavar="REF",
                   help="evidence carrying this ROC reference (repeatable)")
    c.add_argument("--req", action="append", default=[], metavar="ID",
                   help="evidence mapped to this requirement or one under it (repeatable)")
    c.add_argument("--item", action="append", default=[], metavar="ID",
                   help="this item (repeatable)")
    c.add_argument("--kind", action="append", default=[], choices=KINDS,
                   help="only evidence of this kind (repeatable)")
    c.add_argument("--since", type=_date, metavar="DATE", help="ingested on or after")
    c.add_argument("--until", type=_date, metavar="DATE", help="ingested on or before")
    c.add_argument("--dry-run", action="store_true",
                   help="list what would go and what would not (and why); write nothing")
    c.add_argument("--force", action="store_true", help="replace an existing output file")
    c = cmd("exports", "the exports made of an engagement")
    c.add_argument("engagement")

    c = cmd("scan", "scan files for card data and PII without storing anything "
                    "(exit 1 when something is found)")
    c.add_argument("paths", nargs="+", metavar="PATH")

    c = cmd("flags", "an engagement's PII and card-data flags (card data first)")
    c.add_argument("engagement")
    c.add_argument("--open", action="store_true", help="only flags awaiting a decision")
    c.add_argument("--item", metavar="ITEM", help="only this item's flags")
    c.add_argument("--kind", metavar="KIND", help="only this kind (pan, email, ...)")
    fl = cmd("flag", "decide a flag (card-data flags keep their item quarantined)")
    flsub = fl.add_subparsers(dest="fcmd", required=True, metavar="ACTION")
    c = cmd("resolve", "resolve as a false positive, redact the item, or retain with a reason",
            flsub)
    c.add_argument("flag", metavar="FLAG")
    how = c.add_mutually_exclusive_group(required=True)
    how.add_argument("--false-positive", dest="decision", action="store_const",
                     const="false_positive", help="not what the detector thought")
    how.add_argument("--redact", dest="decision", action="store_const", const="redact",
                     help="store a masked version and crypto-shred the original")
    how.add_argument("--retain", dest="decision", action="store_const", const="retain",
                     help="keep it as is (the reason says why the evidence needs it)")
    c.add_argument("--reason", required=True, metavar="TEXT")

    c = cmd("ls", "list an engagement's evidence")
    c.add_argument("engagement")
    c.add_argument("--kind", choices=KINDS)
    c.add_argument("--req", metavar="ID")
    c.add_argument("--disclosure", choices=DISCLOSURES)
    c.add_argument("--state", choices=("active", "quarantined", "shredded"))  # lifecycle.VISIBLE
    c.add_argument("--search", metavar="TEXT", help="in names, descriptions and systems")
    c.add_argument("--limit", type=int)

    c = cmd("show", "one item's metadata")
    c.add_argument("item")
    c = cmd("get", "decrypt one item to a file (-o) or to stdout")
    c.add_argument("item")
    c.add_argument("-o", "--output", type=Path)
    c.add_argument("--force", action="store_true", help="replace an existing output file")
    c.add_argument("--quarantined", action="store_true",
                   help="read a quarantined item's content (leads and QA reviewers; audited)")
    c = cmd("verify", "re-read, decrypt and re-hash items; names every mismatch")
    c.add_argument("item", nargs="?")
    c.add_argument("--all", action="store_true")
    c.add_argument("--engagement")
    return p, named


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the parsed command; its exit code. VaultError propagates."""
    group = VERBS[args.cmd](args, settings)
    return int(getattr(group, args.cmd.replace("-", "_"))())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    settings = Settings.from_env()
    try:
        return run(args, settings)
    except VaultError as exc:
        report_error(exc)
        return EXIT_ERROR
    except BrokenPipeError:  # `vault ... | head`: the reader left; nothing more to say
        _quiet_stdout()
        return EXIT_ERROR
    except Exception as exc:
        damaged = _database_error(exc)
        if damaged is None:
            raise  # a bug: loud in tests
        report_error(damaged)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("vault: interrupted", file=sys.stderr)
        return 130


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush into the closed pipe
    does not print a traceback of its own."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (tests): nothing will be flushed into a pipe


def _database_error(exc: Exception) -> VaultError | None:
    """A damaged or unwritable metadata database, met in the middle of a command, as the one
    error the user can act on (the driver's own words, never a statement or a value)."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, sa_exc.DatabaseError):
        return None
    orig = getattr(exc, "orig", None)
    reason = str(orig).splitlines()[0][:200] if orig is not None else type(exc).__name__
    return StorageError(f"the metadata database failed: {reason}",
                        hint="if it was damaged, restore it from a backup (see the README's "
                             "\"How evidence is stored\")")


if __name__ == "__main__":
    sys.exit(main())
