"""Your working session: the unlock agent (`vault agent`) and the terminal UI (`vault tui`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from vault.cli.base import Command
from vault.cli.termout import safe
from vault.crypto.keys import load_identity, passphrase_from_env_or_tty
from vault.errors import InvalidInput


class Session(Command):
    VERBS = ("agent", "tui")

    def tui(self) -> int:
        from tui.app import run
        return int(run() or 0)

    def agent(self) -> int:
        from vault.crypto import agent
        a = self.args
        if a.stop:
            return self._stop()
        agent.check_platform()
        lifetime = agent.parse_lifetime(a.timeout)
        agent.harden_process()  # before the identity is in this process's memory
        identity = load_identity(self.settings.identity_path,
                                 passphrase_from_env_or_tty(what=self.unlocks)(False))
        os.environ.pop("VAULT_PASSPHRASE", None)  # not for the agent's lifetime
        if a.socket:
            path, own_dir = a.socket.absolute(), False
        else:
            path, own_dir = agent.default_socket_path()

        def announce(pid: int) -> None:
            self.out({"socket": str(path), "pid": pid, "recipient": str(identity.recipient),
                      "lifetime_s": lifetime}, lambda: print(agent.shell_lines(path, pid),
                                                             end=""))
            sys.stdout.flush()

        agent.start(identity, path, own_dir=own_dir, lifetime=lifetime,
                    foreground=a.foreground, announce=announce)
        return 0

    def _stop(self) -> int:
        from vault.crypto import agent
        where = self.args.socket or os.environ.get(agent.ENV_SOCK)
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
