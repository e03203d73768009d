"""What the service's mixins may use of the facade (a typing protocol only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from vault.age import X25519Identity
from vault.keys import PersonalKey
from vault.models import Engagement, EvidenceItem, User


class Facade(Protocol):
    engine: Engine
    clock: Callable[[], datetime]
    rng: Callable[[int], bytes]
    user: User
    _identity: PersonalKey

    def _session(self) -> Session: ...
    def _new_id(self) -> str: ...
    def _roles(self, s: Session, engagement_id: str | None) -> set[str]: ...
    def _audit(self, s: Session, action: str, obj: str, outcome: str = "ok",
               engagement_id: str | None = None,
               detail: dict[str, Any] | None = None) -> None: ...
    def _require(self, s: Session, action: str, obj: str,
                 engagement_id: str | None = None) -> None: ...
    def _engagement(self, s: Session, ref: str) -> Engagement: ...
    def _item(self, s: Session, ref: str) -> EvidenceItem: ...
    def _engagement_identity(self, s: Session, key_id: str) -> X25519Identity: ...
