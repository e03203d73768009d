"""The `vault` command line: argument parsing and printing only; all work is the service's.

Errors: every VaultError becomes `vault: error: ...` (and `vault: hint: ...`) on stderr, exit 2.
`vault verify` exits 1 when it found a damaged item. Every verb takes --json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault import access, catalogue, sources
from vault.config import Settings
from vault.errors import AlreadyExists, InvalidInput, VaultError
from vault.keys import load_identity, passphrase_from_env_or_tty, unlock_in_background
from vault.termout import Progress, safe, table
from vault.vocabulary import DISCLOSURES, KINDS

if TYPE_CHECKING:  # the database layers load only for commands that open the vault
    from vault.scan import ScanBatch
    from vault.service import IngestResult, Vault

EXIT_ERROR = 2
EXIT_FOUND = 1
ENV_AGENT_SOCK = "VAULT_AGENT_SOCK"  # vault.agent.ENV_SOCK, without importing it


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    p = argparse.ArgumentParser(prog="vault", description="Evidence Vault: encrypted PCI "
                                "assessment evidence.", parents=[common])
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def cmd(name: str, help: str, parent: Any = sub) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=help, parents=[common])  # type: ignore[no-any-return]

    c = cmd("init", "create the vault and your personal identity (safe to re-run)")
    c.add_argument("--name", help="your name in the vault (default: login name)")
    c.add_argument("--demo", action="store_true",
                   help="add a demo engagement with synthetic evidence when there is none")
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
    c.add_argument("--state", choices=("active", "quarantined", "superseded", "shredded"))
    c.add_argument("--search", metavar="TEXT", help="in names, descriptions and systems")
    c.add_argument("--limit", type=int)

    c = cmd("show", "one item's metadata")
    c.add_argument("item")
    c = cmd("get", "decrypt one item to a file (-o) or to stdout")
    c.add_argument("item")
    c.add_argument("-o", "--output", type=Path)
    c.add_argument("--force", action="store_true", help="replace an existing output file")
    c = cmd("verify", "re-read, decrypt and re-hash items; names every mismatch")
    c.add_argument("item", nargs="?")
    c.add_argument("--all", action="store_true")
    c.add_argument("--engagement")
    return p


class Cli:
    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.json: bool = args.json

    def out(self, data: Any, human: Callable[[], None]) -> None:
        if self.json:
            json.dump(data, sys.stdout, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            human()

    def open(self) -> Vault:
        self.settings.require_vault()
        agent_sock = os.environ.get(ENV_AGENT_SOCK)
        if agent_sock:  # the unlock agent holds the identity: no passphrase, no scrypt
            from vault import bootstrap
            return bootstrap.open_with_agent(self.settings, agent_sock)
        identity = unlock_in_background(self.settings.identity_path,
                                        passphrase_from_env_or_tty()(False))
        from vault import bootstrap  # the ORM, models and service import while scrypt runs
        return bootstrap.open_unlocking(self.settings, identity)

    # -- verbs ---------------------------------------------------------------------------------

    def init(self) -> int:
        from vault import bootstrap, demo
        if self.args.join:
            return self._join()
        r = bootstrap.initialise(self.settings, passphrase_from_env_or_tty(),
                                 name=self.args.name)
        demo_made = demo.ensure(r.vault) if self.args.demo else False
        data = {"home": str(self.settings.home), "created_vault": r.created_vault,
                "created_identity": r.created_identity, "identity": str(
                    self.settings.identity_path), "recipient": r.vault.user.recipient,
                "user": r.vault.user.name, "demo": demo_made}

        def human() -> None:
            print(("created vault at " if r.created_vault else "vault at ") + str(
                self.settings.home))
            if r.created_identity:
                print(f"created your identity at {self.settings.identity_path}")
            print(f"you are {safe(r.vault.user.name)} ({r.vault.user.recipient})")
            if demo_made:
                print("added the demo engagement: try `vault ls demo`")
            print()
            table([(k, safe(str(v))) for k, v in r.vault.status().items()])
        self.out(data, human)
        return 0

    def _join(self) -> int:
        from vault import bootstrap
        ident, created = bootstrap.create_or_load_identity(self.settings,
                                                           passphrase_from_env_or_tty())
        registered = bootstrap.is_registered(self.settings, ident)
        data = {"identity": str(self.settings.identity_path), "created_identity": created,
                "recipient": str(ident.recipient), "registered": registered}

        def human() -> None:
            if created:
                print(f"created your identity at {self.settings.identity_path}")
            print(f"your recipient: {ident.recipient}")
            if not registered:
                print("ask an administrator to run: vault user add NAME --recipient "
                      f"{ident.recipient}")
        self.out(data, human)
        return 0

    def identity(self) -> int:
        from vault import bootstrap
        ident, created = bootstrap.create_or_load_identity(self.settings,
                                                           passphrase_from_env_or_tty())
        if not created:
            raise AlreadyExists(f"an identity exists already at {self.settings.identity_path}",
                                hint="point VAULT_IDENTITY to another file for a new one")
        self.out({"identity": str(self.settings.identity_path),
                  "recipient": str(ident.recipient)},
                 lambda: print(f"created {self.settings.identity_path}\n"
                               f"your recipient: {ident.recipient}"))
        return 0

    def user(self) -> int:
        a = self.args
        u = self.open().add_user(a.name, a.recipient, a.role)
        self.out({"id": u.id, "name": u.name, "recipient": u.recipient,
                  "firm_role": u.firm_role},
                 lambda: print(f"added {safe(u.name)}" + (f" [{u.firm_role}]"
                                                          if u.firm_role else "")))
        return 0

    def users(self) -> int:
        rows = self.open().list_users()
        self.out([{"name": u.name, "recipient": u.recipient, "firm_role": u.firm_role}
                  for u in rows],
                 lambda: table([("NAME", "ROLE", "RECIPIENT")] + [
                     (safe(u.name), u.firm_role or "-", u.recipient) for u in rows],
                     header=True))
        return 0

    def member(self) -> int:
        a, v = self.args, self.open()
        if a.mcmd == "add":
            m = v.add_member(a.engagement, a.user, a.role)
            self.out({"engagement": a.engagement, "user": a.user, "role": m.role},
                     lambda: print(f"{safe(a.user)} is {m.role} of {safe(a.engagement)}"))
        else:
            v.remove_member(a.engagement, a.user, rotate=a.rotate)
            self.out({"engagement": a.engagement, "user": a.user, "removed": True,
                      "rotated": a.rotate},
                     lambda: print(f"removed {safe(a.user)} from {safe(a.engagement)}"
                                   + (" and rotated its key" if a.rotate else "")))
        return 0

    def members(self) -> int:
        rows = self.open().members(self.args.engagement)
        self.out(rows, lambda: table([("USER", "ROLE", "RECIPIENT")] + [
            (safe(r["user"]), r["role"], r["recipient"]) for r in rows], header=True))
        return 0

    def audit(self) -> int:
        from vault.auditing import event_dict
        a, v = self.args, self.open()
        if a.acmd is None:
            events = v.audit_events(a.engagement, limit=a.limit, actor=a.actor,
                                    action=a.action)
            rows = [event_dict(e) for e in events]
            self.out(rows, lambda: table([("SEQ", "TIME", "ACTOR", "ACTION", "OUTCOME",
                                           "OBJECT")] + [
                (str(r["seq"]), r["at"][:19], safe(r["actor"]), r["action"], r["outcome"],
                 safe(r["object"])) for r in rows], header=True))
            return 0
        if a.acmd == "verify":
            rep = v.audit_verify()
            self.out({"ok": rep.ok, "events": rep.events, "tree_heads": rep.checkpoints,
                      "problems": rep.problems},
                     lambda: print("\n".join(rep.problems + [
                         f"{rep.events} events, {rep.checkpoints} signed tree heads: "
                         + ("intact" if rep.ok else "BROKEN")])))
            return 0 if rep.ok else EXIT_FOUND
        if a.acmd == "checkpoint":
            cp = v.audit_checkpoint()
            self.out({"size": cp.size, "root": cp.root, "time": cp.at.isoformat(),
                      "key_id": cp.key_id, "signature": cp.signature},
                     lambda: print(f"signed tree head: size {cp.size}, root {cp.root}"))
            return 0
        if a.acmd == "proof":
            proof = v.audit_proof(a.event)
            print(json.dumps(proof, indent=None if self.json else 2, ensure_ascii=False))
            return 0
        n = v.audit_export(a.output)
        self.out({"output": str(a.output), "lines": n},
                 lambda: print(f"wrote {n} lines to {safe(str(a.output))}"))
        return 0

    def signing_key(self) -> int:
        a, v = self.args, self.open()
        if a.scmd == "rotate":
            k = v.rotate_signing_key()
            self.out({"key_id": k.id}, lambda: print(f"new signing key {k.id}"))
            return 0
        keys = v.signing_keys()
        pem = "".join(k.public_pem for k in (keys if a.all else keys[:1]))
        tmp = a.output.with_name(a.output.name + ".tmp")
        tmp.write_text(pem, encoding="ascii")
        tmp.replace(a.output)
        self.out({"output": str(a.output), "key_ids": [k.id for k in keys]},
                 lambda: print(f"wrote {safe(str(a.output))} (key {keys[0].id[:16]}…)"))
        return 0

    def store(self) -> int:
        st = self.open().store_check()
        self.out(st, lambda: table([(k, safe(str(v))) for k, v in st.items()]))
        return 0

    def doctor(self) -> int:
        rep = self.open().doctor(repair=self.args.repair)
        problems = sum(len(rep[k]) for k in ("orphan_payloads", "missing_payloads",
                                              "stalled_ingests", "abandoned_uploads"))

        def human() -> None:
            for k, v in rep.items():
                for x in v:
                    print(f"{k.replace('_', ' ')}: {safe(str(x))}")
            print(f"{problems} problems found" + (f", {len(rep['repaired'])} repaired"
                                                   if self.args.repair else ""))
        self.out(rep, human)
        return EXIT_FOUND if problems and not self.args.repair else 0

    def tui(self) -> int:
        from tui.app import run
        return int(run() or 0)

    def agent(self) -> int:
        from vault import agent
        a = self.args
        if a.stop:
            where = a.socket or os.environ.get(agent.ENV_SOCK)
            if not where:
                raise InvalidInput(f"no agent to stop: {agent.ENV_SOCK} is not set",
                                   hint="name its socket with --socket PATH")
            try:
                agent.stop(Path(where))
            except agent.AgentUnavailable:  # gone already: the shell forgets it all the same
                print(f"vault: no agent answers at {safe(str(where))}", file=sys.stderr)
            self.out({"stopped": str(where)}, lambda: print(
                f"unset {agent.ENV_SOCK}; unset VAULT_AGENT_PID;\n"
                f"echo 'vault agent stopped' >&2;"))
            return 0
        agent.check_platform()
        lifetime = agent.parse_lifetime(a.timeout)
        agent.harden_process()  # before the identity is in this process's memory
        identity = load_identity(self.settings.identity_path,
                                 passphrase_from_env_or_tty()(False))
        os.environ.pop("VAULT_PASSPHRASE", None)  # not for the agent's lifetime
        if a.socket:
            path, own_dir = a.socket.absolute(), False
        else:
            path, own_dir = agent.default_socket_path()
        server = agent.Agent(identity, path, lifetime=lifetime, own_dir=own_dir)
        server.bind()

        def announce(pid: int) -> None:
            self.out({"socket": str(path), "pid": pid, "recipient": str(identity.recipient),
                      "lifetime_s": lifetime}, lambda: print(agent.shell_lines(path, pid),
                                                             end=""))
            sys.stdout.flush()

        if a.foreground:
            announce(os.getpid())
            agent.run_foreground(server)
            return 0
        sys.stdout.flush()
        sys.stderr.flush()
        # handlers from before the fork: the daemon is never without them
        before = agent.handle_signals(server)
        try:
            pid = agent.daemonize(server.fileno())
        except BaseException:
            server.close()
            raise
        if pid is None:  # the background agent
            try:
                agent.run_foreground(server)
            finally:
                os._exit(0)
        for sig, handler in before.items():
            signal.signal(sig, handler)
        server.detach()  # the daemon has the socket now
        announce(pid)
        return 0

    def whoami(self) -> int:
        who = self.open().whoami()
        self.out(who, lambda: print(f"{safe(who['name'])} {who['recipient']}"
                                    + (f" [{who['firm_role']}]" if who["firm_role"] else "")))
        return 0

    def status(self) -> int:
        st = self.open().status()
        st["home"] = str(self.settings.home)
        self.out(st, lambda: table([(k, safe(str(v))) for k, v in st.items()]))
        return 0

    def engagement(self) -> int:
        from vault.service import engagement_dict
        v, a = self.open(), self.args
        if a.ecmd == "create":
            e = v.create_engagement(a.name, client=a.client, standard=a.standard,
                                    period_start=a.period_start, period_end=a.period_end)
            self.out(engagement_dict(e), lambda: print(f"created engagement {safe(e.name)}"
                                                       f" ({e.id[:8]})"))
        elif a.ecmd == "list":
            rows = v.list_engagements()
            self.out([engagement_dict(e, n) for e, n in rows], lambda: table(
                [("NAME", "CLIENT", "STANDARD", "COMPLETED", "ITEMS")]
                + [(safe(e.name), safe(e.client), e.standard, str(e.completed_on or "-"),
                    str(n)) for e, n in rows], header=True))
        elif a.ecmd == "show":
            e, n = v.engagement(a.engagement)
            d = engagement_dict(e, n)
            self.out(d, lambda: table([(k, safe(str(val))) for k, val in d.items()]))
        else:
            e = v.complete_engagement(a.engagement, a.date)
            self.out(engagement_dict(e), lambda: print(
                f"engagement {safe(e.name)} completed on {e.completed_on}"))
        return 0

    def ingest(self) -> int:
        from vault.service import IngestOptions
        a = self.args
        srcs = sources.collect(a.paths, stdin_name=a.name)
        v = self.open()
        opts = IngestOptions(kind=a.kind, requirements=tuple(a.req), disclosure=a.disclosure,
                             system=a.system, description=a.description,
                             allow_unlocked=a.allow_unlocked)
        total = sum(s.size or 0 for s in srcs)
        failed = 0
        records: list[dict[str, Any]] = []
        with Progress.maybe(total, len(srcs), enabled=not self.json) as bar:
            def report(src: sources.Source, r: IngestResult | VaultError) -> None:
                nonlocal failed
                if isinstance(r, VaultError):
                    failed += 1
                    records.append({"name": src.name, "error": r.message})
                    bar.println(f"vault: error: {safe(r.message)}", err=True)
                    return
                d = r.view.as_dict() | {"duplicate": r.duplicate, "flags": r.flags}
                records.append(d)
                if not self.json:
                    note = " (already in the vault)" if r.duplicate else ""
                    if r.flags:
                        found = ", ".join(f"{k} x{n}" for k, n in sorted(r.flags.items()))
                        note += (" QUARANTINED: " if r.quarantined else " flagged: ") + found
                    bar.println(f"{r.view.item.id[:12]}  {safe(src.name)}{note}")
            v.ingest(a.engagement, srcs, opts, progress=bar.advance, on_result=report)
        if self.json:
            self.out(records, lambda: None)
        return EXIT_ERROR if failed else 0

    def scan(self) -> int:
        from vault.pii import Scanner
        from vault.scan import scan_batches
        from vault.scanjson import JsonLines

        srcs = sources.collect(self.args.paths)
        report: _ScanJson | _ScanTable = _ScanJson(sys.stdout) if self.json else _ScanTable()
        render = JsonLines() if self.json else None  # JSON lines made by the scanning workers
        errors = 0
        with Scanner() as scanner:
            for src in srcs:
                try:
                    for batch in scan_batches(src, scanner, values="none", render=render):
                        report.add(batch)
                except (OSError, ValueError, VaultError) as exc:  # this file only; go on
                    errors += 1
                    report.flush()
                    print(f"vault: error: cannot scan {safe(src.name)}: {safe(str(exc))}",
                          file=sys.stderr)
                except Exception as exc:  # noqa: BLE001 - a bug must not end the whole scan
                    errors += 1
                    report.flush()
                    print(f"vault: error: cannot scan {safe(src.name)}: internal error "
                          f"({type(exc).__name__})", file=sys.stderr)
        report.flush()
        if isinstance(report, _ScanTable):
            report.print()
            print(f"{len(srcs)} files scanned, {report.count} findings"
                  + (f", {errors} could not be scanned (fully)" if errors else ""))
        return EXIT_ERROR if errors else (EXIT_FOUND if report.count else 0)

    def flags(self) -> int:
        a = self.args
        views = self.open().flags(a.engagement, open_only=a.open, item=a.item, kind=a.kind)
        self.out([f.as_dict() for f in views], lambda: table(
            [("FLAG", "STATE", "KIND", "VALUE", "WHERE", "SEEN", "ITEM", "NAME")]
            + [(f.flag.id[:12], f.flag.state, f.flag.kind, safe(f.flag.masked),
                _where(f.flag.line, f.flag.page), str(f.flag.occurrences),
                f.flag.item_id[:12], safe(f.item_name)) for f in views], header=True))
        return 0

    def flag(self) -> int:
        a = self.args
        r = self.open().resolve_flag(a.flag, a.decision, a.reason)
        data = {"resolved": [f.as_dict() for f in r.flags], "item_state": r.item_state,
                "redacted_version": r.redacted_version}

        def human() -> None:
            for f in r.flags:
                print(f"{f.flag.id[:12]} {f.flag.kind} {safe(f.flag.masked)}: {f.flag.state}")
            if r.redacted_version:
                print(f"redacted version {r.redacted_version[:12]}; original crypto-shredded")
            else:
                print(f"item is {r.item_state}")
        self.out(data, human)
        return 0

    def ls(self) -> int:
        from vault.service import ItemFilter
        a = self.args
        flt = ItemFilter(kind=a.kind, requirement=a.req, disclosure=a.disclosure,
                         state=a.state, text=a.search, limit=a.limit)
        items = self.open().list_items(a.engagement, flt)
        self.out([i.as_dict() for i in items], lambda: table(
            [("ID", "KIND", "SIZE", "DISCLOSURE", "STATE", "REQS", "NAME")]
            + [(i.item.id[:12], i.item.kind, _size(i.item.size), i.item.disclosure,
                i.item.state, ",".join(i.requirements) or "-", safe(i.item.original_name))
               for i in items], header=True))
        return 0

    def show(self) -> int:
        view = self.open().item(self.args.item)
        d = view.as_dict()
        self.out(d, lambda: table([(k, safe(_fmt(val))) for k, val in d.items()]))
        return 0

    def get(self) -> int:
        a = self.args
        v = self.open()
        if a.output is None or str(a.output) == "-":
            if sys.stdout.isatty() and not a.force:
                raise InvalidInput("refusing to write evidence to a terminal",
                                   hint="use -o FILE, a pipe, or --force")
            view = v.read_item(a.item, out=sys.stdout.buffer)
            return 0
        view = v.read_item(a.item, dest=a.output, overwrite=a.force)
        self.out({"id": view.item.id, "output": str(a.output), "sha256": view.item.sha256},
                 lambda: print(f"wrote {safe(str(a.output))} ({_size(view.item.size)}, "
                               f"sha256 {view.item.sha256})", file=sys.stderr))
        return 0

    def verify(self) -> int:
        a = self.args
        if a.item is None and not a.all and a.engagement is None:
            raise InvalidInput("name an item, --engagement E or --all")
        results = self.open().verify(a.item, engagement=a.engagement)
        bad = [r for r in results if not r.ok]
        data = {"checked": len(results), "damaged": len(bad),
                "results": [r.__dict__ for r in results]}

        def human() -> None:
            for r in bad:
                print(f"DAMAGED {r.item_id} {safe(r.name)}: {r.problem}")
            print(f"{len(results)} checked, {len(bad)} damaged")
        self.out(data, human)
        return EXIT_FOUND if bad else 0


class _ScanJson:
    """`vault scan --json`: one JSON object per finding and line (see :mod:`vault.scanjson`),
    written in batches, most of them rendered by the scanner's worker processes."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.raw = getattr(out, "buffer", None)  # the lines are UTF-8 bytes already
        if self.raw is not None:
            out.flush()
        self.count = 0

    def add(self, batch: ScanBatch) -> None:
        from vault.scanjson import json_lines

        n, data = batch.rendered or json_lines(batch.path, batch.page, batch.rows)
        self.count += n
        if self.raw is not None:
            self.raw.write(data)
        else:
            self.out.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.out.flush()


class _ScanTable:
    """`vault scan`'s table: the first ROWS findings, then how many more and per kind."""

    ROWS = 1000

    def __init__(self) -> None:
        self.count = 0
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.kinds: dict[str, int] = {}

    def add(self, batch: ScanBatch) -> None:
        kinds = self.kinds
        for kind, det, _, _, line, masked, _, _ in batch.rows:
            kinds[kind] = kinds.get(kind, 0) + 1
            if len(self.rows) < self.ROWS:
                where = str(line) if line is not None else (
                    f"p.{batch.page}" if batch.page is not None else "-")
                self.rows.append((safe(batch.path), where, kind, masked, det))
        self.count += len(batch.rows)

    def flush(self) -> None:
        sys.stdout.flush()

    def print(self) -> None:
        table([("PATH", "LINE/PAGE", "KIND", "VALUE", "DETECTOR"), *self.rows], header=True)
        more = self.count - len(self.rows)
        if more:
            print(f"... {more} more findings not shown (--json lists every one)")
            print("by kind: " + ", ".join(
                f"{k} {n}" for k, n in sorted(self.kinds.items(), key=lambda kv: (-kv[1], kv[0]))))

def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _where(line: int | None, page: int | None) -> str:
    if page is not None:
        return f"page {page}"
    return f"line {line}" if line is not None else "-"


def _fmt(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "-"
    return "-" if v is None else str(v)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cli = Cli(args, Settings.from_env())
    try:
        return int(getattr(cli, args.cmd.replace("-", "_"))())
    except VaultError as exc:
        print(f"vault: error: {safe(exc.message)}", file=sys.stderr)
        if exc.hint:
            print(f"vault: hint: {safe(exc.hint)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("vault: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
