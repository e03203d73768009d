"""Where the vault lives: paths and URLs from the environment, with per-user defaults.

- ``VAULT_HOME``: the embedded vault's directory (default: the per-user data directory)
- ``VAULT_DB_URL``: SQLAlchemy URL of the metadata DB (default ``sqlite:///$VAULT_HOME/vault.db``)
- ``VAULT_STORE_URL``: object store URL (default ``file://$VAULT_HOME/objects``)
- ``VAULT_IDENTITY``: the personal identity file (default ``<user config dir>/identity.age``)
- ``VAULT_PASSPHRASE``: its passphrase, for scripts (default: prompted on a terminal)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "evidence-vault"


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    store_url: str
    identity_path: Path

    @property
    def is_embedded(self) -> bool:
        return self.db_url.startswith("sqlite") and self.store_url.startswith("file:")

    def sqlite_path(self) -> Path | None:
        """The metadata DB's file for an SQLite URL with a file path, else None."""
        plain = "sqlite:///"  # the default URL's form, read without importing SQLAlchemy (0.3 s)
        if self.db_url.startswith(plain) and not any(c in self.db_url for c in "?%#"):
            database = self.db_url[len(plain):]
            return Path(database) if database and database != ":memory:" else None
        from sqlalchemy.engine import make_url

        u = make_url(self.db_url)
        if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
            return None
        return Path(u.database)

    def vault_exists(self) -> bool:
        """Whether an embedded vault was created here (other deployments: assumed to exist)."""
        path = self.sqlite_path()
        return path is None or path.exists()

    def require_vault(self) -> None:
        """NotInitialised unless :meth:`vault_exists`."""
        if not self.vault_exists():
            from vault.errors import NotInitialised

            raise NotInitialised(f"no vault at {self.home}",
                                 hint="run `vault init` (or `make run`) to create one")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("VAULT_HOME") or platformdirs.user_data_dir(APP_NAME)).expanduser()
        home = home.absolute()
        db_url = env.get("VAULT_DB_URL") or f"sqlite:///{home / 'vault.db'}"
        store_url = env.get("VAULT_STORE_URL") or f"file://{home / 'objects'}"
        identity = env.get("VAULT_IDENTITY") or str(
            Path(platformdirs.user_config_dir(APP_NAME)) / "identity.age"
        )
        return cls(home=home, db_url=db_url, store_url=store_url,
                   identity_path=Path(identity).expanduser().absolute())
