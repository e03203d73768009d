"""Verbs about people: init, identity, user, users, member, members, whoami."""

from __future__ import annotations

from vault.cli.base import Command
from vault.cli.termout import safe, table
from vault.crypto.keys import passphrase_from_env_or_tty
from vault.errors import AlreadyExists


class People(Command):
    VERBS = ("init", "identity", "user", "users", "member", "members", "whoami")

    def init(self) -> int:
        from vault.service import bootstrap, demo
        if self.args.join:
            return self._join()
        r = bootstrap.initialise(self.settings, passphrase_from_env_or_tty(what=self.unlocks),
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
        if self.args.tui:  # on into the terminal UI with the identity just unlocked
            from tui.app import make_app
            make_app(r.vault).run()
        return 0

    def _join(self) -> int:
        from vault.service import bootstrap
        ident, created = bootstrap.create_or_load_identity(self.settings,
                                                           passphrase_from_env_or_tty(what=self.unlocks))
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
        from vault.service import bootstrap
        ident, created = bootstrap.create_or_load_identity(self.settings,
                                                           passphrase_from_env_or_tty(what=self.unlocks))
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
        if a.ucmd == "certify":
            c = self.open().certify_user(a.name, days=a.days)
            self.out(c, lambda: print(f"certified {safe(c['user'])}'s signing key until "
                                      f"{c['not_after'][:10]} (serial {c['serial'][:16]}…)"))
            return 0
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

    def whoami(self) -> int:
        who = self.open().whoami()
        self.out(who, lambda: print(f"{safe(who['name'])} {who['recipient']}"
                                    + (f" [{who['firm_role']}]" if who["firm_role"] else "")))
        return 0
