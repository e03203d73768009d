"""The service facade: the one entry point of the CLI and the TUI.

Each public verb is a short delegation to the module of its concept (``engagements``,
``evidence``, ``browse``, ``review``, ``people``, ``audit``, ``store``, ``catalogue``), where it
goes through ``Context.act()``: permission check, work, audit event.

The concepts no quick command reaches (retention, destruction and its certificates, the audit
log's verbs, exports) are imported by their verbs, not here: every command pays for what this
module imports (``tests/cli/test_startup.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy.engine import Engine

from storage_backends import ObjectStore
from vault.catalogue import Catalogue
from vault.crypto import certs
from vault.crypto.keys import PersonalKey
from vault.errors import VaultError
from vault.evidence.pipeline import Progress
from vault.evidence.sources import Source
from vault.metadata.models import (
    AuditCheckpoint,
    AuditEvent,
    Engagement,
    EvidenceItem,
    ExportRecipient,
    ExportRecord,
    Member,
    SigningKey,
    User,
)
from vault.service import (
    browse,
    catalogue,
    disclosure,
    engagements,
    evidence,
    people,
    recipients,
    review,
    store,
)
from vault.service.catalogue import CatalogueInfo, Loaded, RequirementLookup
from vault.service.context import Clock, Context, Rng, utcnow
from vault.service.evidence import OnResult
from vault.service.views import (
    EngagementView,
    FlagView,
    IngestOptions,
    IngestResult,
    ItemFilter,
    ItemPage,
    ItemView,
    Resolution,
    VerifyResult,
)

if TYPE_CHECKING:  # the concepts a quick command never reaches load with their first verb
    from vault.audit.prune import Pruned
    from vault.audit.verify import VerifyReport
    from vault.retention.report import RunReport
    from vault.service import certificates as destruction_certs
    from vault.service import retention as retention_
    from vault.service.exports import ExportResult, Scope


class Vault(Context):
    """The vault as one acting person sees it."""

    def __init__(self, engine: Engine, store: ObjectStore, identity: PersonalKey, *,
                 tmp_dir: Path, clock: Clock = utcnow, rng: Rng = os.urandom) -> None:
        super().__init__(engine, store, identity, tmp_dir=tmp_dir, clock=clock, rng=rng)
        catalogue.refresh(self)  # the firm's loaded catalogues, for every reader of them
        people.ensure_signer_key(self)  # a person's own key for signing exports

    # -- the vault -----------------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return people.whoami(self)

    def status(self) -> dict[str, Any]:
        return store.status(self)

    def store_check(self) -> dict[str, Any]:
        return store.store_check(self)

    def doctor(self, *, repair: bool = False, older_than: timedelta = store.STALE
               ) -> dict[str, Any]:
        return store.doctor(self, repair=repair, older_than=older_than)

    # -- engagements ---------------------------------------------------------------------------

    def create_engagement(self, name: str, *, client: str, standard: str,
                          period_start: date | None = None,
                          period_end: date | None = None) -> Engagement:
        return engagements.create_engagement(self, name, client=client, standard=standard,
                                             period_start=period_start, period_end=period_end)

    def list_engagements(self) -> list[EngagementView]:
        return engagements.list_engagements(self)

    def engagement(self, ref: str) -> EngagementView:
        return engagements.engagement(self, ref)

    def complete_engagement(self, ref: str, on: date) -> Engagement:
        return engagements.complete_engagement(self, ref, on)

    # -- evidence ------------------------------------------------------------------------------

    def ingest(self, ref: str, sources: Iterable[Source], opts: IngestOptions,
               progress: Progress | None = None, on_result: OnResult | None = None,
               ) -> list[IngestResult | VaultError]:
        return evidence.ingest(self, ref, sources, opts, progress, on_result)

    def list_items(self, ref: str, flt: ItemFilter | None = None) -> list[ItemView]:
        return evidence.list_items(self, ref, flt)

    def item(self, ref: str) -> ItemView:
        return evidence.item(self, ref)

    def read_item(self, ref: str, *, dest: Path | None = None, out: BinaryIO | None = None,
                  overwrite: bool = False, progress: Progress | None = None,
                  quarantined: bool = False) -> ItemView:
        return evidence.read_item(self, ref, dest=dest, out=out, overwrite=overwrite,
                                  progress=progress, quarantined=quarantined)

    def verify(self, ref: str | None = None, *, engagement: str | None = None
               ) -> list[VerifyResult]:
        return evidence.verify(self, ref, engagement=engagement)

    def add_interview_note(self, ref: str, interviewee_role: str, on_date: date,
                           requirements: Iterable[str], text: str) -> IngestResult:
        return browse.add_interview_note(self, ref, interviewee_role, on_date, requirements,
                                         text)

    # -- browsing (the terminal UI) ------------------------------------------------------------

    def roles_in(self, ref: str | None = None) -> set[str]:
        return browse.roles_in(self, ref)

    def count_items(self, ref: str, flt: ItemFilter | None = None) -> int:
        return browse.count_items(self, ref, flt)

    def item_page(self, ref: str, flt: ItemFilter | None = None, *, size: int = 200,
                  cap: int | None = None) -> ItemPage:
        return browse.item_page(self, ref, flt, size=size, cap=cap)

    def coverage(self, ref: str) -> list[tuple[str, str, int]]:
        return catalogue.mark_headings(self, ref, browse.coverage(self, ref))

    def custody(self, item_ref: str) -> list[AuditEvent]:
        return browse.custody(self, item_ref)

    def versions(self, item_ref: str) -> list[ItemView]:
        return browse.versions(self, item_ref)

    def item_members(self, item_ref: str) -> list[dict[str, Any]]:
        return browse.item_members(self, item_ref)

    def preview(self, item_ref: str, max_bytes: int = browse.PREVIEW_BYTES) -> str:
        return browse.preview(self, item_ref, max_bytes)

    def member_preview(self, item_ref: str, seq: int,
                       max_bytes: int = browse.PREVIEW_BYTES) -> str:
        return browse.member_preview(self, item_ref, seq, max_bytes)

    # -- retention and legal holds -------------------------------------------------------------

    def set_retention(self, ref: str, years: int) -> Engagement:
        from vault.service import retention as retention_
        return retention_.set_retention(self, ref, years)

    def retention_status(self, ref: str | None = None, *, upcoming: int | None = None
                         ) -> list[retention_.RetentionRow]:
        from vault.service import retention as retention_
        return retention_.retention_status(self, ref, upcoming=upcoming)

    def place_hold(self, ref: str, reason: str) -> retention_.HoldView:
        from vault.service import retention as retention_
        return retention_.place_hold(self, ref, reason)

    def release_hold(self, ref: str, reason: str) -> retention_.HoldView:
        from vault.service import retention as retention_
        return retention_.release_hold(self, ref, reason)

    def holds(self, ref: str | None = None, *, include_released: bool = False
              ) -> list[retention_.HoldView]:
        from vault.service import retention as retention_
        return retention_.list_holds(self, ref, include_released=include_released)

    # -- destruction at the end of retention ---------------------------------------------------

    def destroy_due(self, *, dry_run: bool = False, limit: int | None = None) -> RunReport:
        from vault.service import destruction
        return destruction.destroy_due(self, dry_run=dry_run, limit=limit)

    # -- requirement catalogues ----------------------------------------------------------------

    def catalogues(self) -> list[CatalogueInfo]:
        return catalogue.catalogues(self)

    def catalogue(self, standard: str) -> Catalogue:
        return catalogue.show(self, standard)

    def load_catalogue(self, data: bytes) -> Loaded:
        return catalogue.load_catalogue(self, data)

    def requirement(self, ref: str, req_id: str) -> RequirementLookup:
        return catalogue.requirement(self, ref, req_id)

    # -- review --------------------------------------------------------------------------------

    def flags(self, ref: str, *, open_only: bool = False, item: str | None = None,
              kind: str | None = None) -> list[FlagView]:
        return review.flags(self, ref, open_only=open_only, item=item, kind=kind)

    def open_flag_counts(self) -> dict[str, int]:
        return review.open_flag_counts(self)

    def resolve_flag(self, ref: str, decision: str, reason: str) -> Resolution:
        return review.resolve_flag(self, ref, decision, reason)

    # -- people --------------------------------------------------------------------------------

    def add_user(self, name: str, recipient: str, role: str | None = None) -> User:
        return people.add_user(self, name, recipient, role)

    def list_users(self) -> list[User]:
        return people.list_users(self)

    def add_member(self, ref: str, user_name: str, role: str) -> Member:
        return people.add_member(self, ref, user_name, role)

    def remove_member(self, ref: str, user_name: str, *, rotate: bool = False) -> None:
        people.remove_member(self, ref, user_name, rotate=rotate)

    def members(self, ref: str) -> list[dict[str, Any]]:
        return people.members(self, ref)

    def signing_keys(self) -> list[SigningKey]:
        return people.signing_keys(self)

    def rotate_signing_key(self) -> SigningKey:
        return people.rotate_signing_key(self)

    def ca_certificate(self) -> str:
        return people.ca_certificate(self)

    def certify_user(self, name: str, *, days: int = certs.CERT_DAYS) -> dict[str, Any]:
        return people.certify_user(self, name, days=days)

    # -- audit ---------------------------------------------------------------------------------

    def audit_events(self, engagement: str | None = None, *, limit: int | None = None,
                     actor: str | None = None, action: str | None = None
                     ) -> list[AuditEvent]:
        from vault.service import audit
        return audit.audit_events(self, engagement, limit=limit, actor=actor, action=action)

    def audit_checkpoint(self) -> AuditCheckpoint:
        from vault.service import audit
        return audit.audit_checkpoint(self)

    def audit_verify(self) -> VerifyReport:
        from vault.service import audit
        return audit.audit_verify(self)

    def audit_proof(self, seq: int) -> dict[str, Any]:
        from vault.service import audit
        return audit.audit_proof(self, seq)

    def audit_export(self, dest: Path) -> int:
        from vault.service import audit
        return audit.audit_export(self, dest)

    def audit_prune(self) -> Pruned:
        from vault.service import audit
        return audit.audit_prune(self)

    # -- destruction certificates --------------------------------------------------------------

    def certificates(self, engagement: str | None = None
                     ) -> list[destruction_certs.CertificateInfo]:
        from vault.service import certificates as destruction_certs
        return destruction_certs.certificates(self, engagement)

    def certificate(self, ref: str, engagement: str | None = None) -> dict[str, Any]:
        from vault.service import certificates as destruction_certs
        return destruction_certs.certificate(self, ref, engagement)

    def export_certificate(self, ref: str, dest: Path) -> dict[str, Any]:
        from vault.service import certificates as destruction_certs
        return destruction_certs.export_certificate(self, ref, dest)

    # -- disclosure and export -----------------------------------------------------------------

    def set_disclosure(self, item_ref: str, level: str, reason: str) -> EvidenceItem:
        return disclosure.set_disclosure(self, item_ref, level, reason)

    def set_roc_refs(self, item_ref: str, add: Iterable[str] = (),
                     remove: Iterable[str] = ()) -> list[str]:
        return disclosure.set_roc_refs(self, item_ref, add, remove)

    def engagement_roc_refs(self, ref: str) -> list[str]:
        return disclosure.engagement_roc_refs(self, ref)

    def add_recipient(self, name: str, type_: str, age_recipient: str,
                      client: str | None = None) -> ExportRecipient:
        return recipients.add_recipient(self, name, type_, age_recipient, client)

    def list_recipients(self) -> list[ExportRecipient]:
        return recipients.list_recipients(self)

    def remove_recipient(self, name: str) -> None:
        recipients.remove_recipient(self, name)

    def export(self, ref: str, *, to: str, request_ref: str, output: Path | None,
               scope: Scope | None = None, dry_run: bool = False, force: bool = False,
               progress: Progress | None = None,
               on_plan: Callable[[ExportResult], None] | None = None) -> ExportResult:
        from vault.service import exports
        return exports.export(self, ref, to=to, request_ref=request_ref, output=output,
                              scope=scope or exports.Scope(), dry_run=dry_run, force=force,
                              progress=progress, on_plan=on_plan)

    def exports(self, ref: str) -> list[ExportRecord]:
        from vault.service import exports
        return exports.exports(self, ref)
