"""Export verbs: a scoped, signed BagIt bundle for a recipient, and the list of exports made.

``export`` (leads and QA reviewers) selects the engagement's items in scope — those carrying a
requested ROC reference, mapped to a requested requirement (or one under it), or named by id;
all items when none of these is given; then narrowed to the requested kinds and ingest dates —,
decides each by the disclosure rules (:mod:`vault.export.rules`; a shredded original brings in
its redacted version), and writes the bag as one stream (:mod:`vault.export.bag`). A dry run
returns the same plan and writes nothing. Every export is audited: one ``export.create`` event
(recipient, request reference, the bundle's SHA-256) and one ``item.export`` event per item
with its SHA-256, and a row in ``export_record``.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from vault.age import X25519Identity, X25519Recipient
from vault.audit import log as audit
from vault.audit import merkle
from vault.crypto import signing
from vault.errors import InvalidInput, NotFound
from vault.evidence import retrieve
from vault.evidence.lifecycle import VISIBLE
from vault.evidence.vocabulary import KINDS
from vault.export import auditor, bag, names, rules
from vault.export.refs import roc_refs
from vault.metadata.models import (
    AuditEvent,
    AuditNode,
    Engagement,
    EvidenceItem,
    ExportRecipient,
    ExportRecord,
    Flag,
    ItemRequirement,
    ItemRocRef,
    User,
)
from vault.pii.fields import card_findings, masked
from vault.service import catalogue as catalogue_service
from vault.service.context import Context
from vault.service.evidence import typed_text
from vault.service.recipients import find_recipient

SOFTWARE = "Evidence Vault 0.1.0 (BagIt writer: vault.export.bag)"


@dataclass(frozen=True)
class Scope:
    roc_refs: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    items: tuple[str, ...] = ()

    def as_text(self) -> str:
        parts = [f"ROC references {', '.join(self.roc_refs)}" if self.roc_refs else "",
                 f"requirements {', '.join(self.requirements)}" if self.requirements else "",
                 f"items {', '.join(i[:12] for i in self.items)}" if self.items else "",
                 f"kinds {', '.join(self.kinds)}" if self.kinds else "",
                 f"ingested from {self.since}" if self.since else "",
                 f"ingested until {self.until}" if self.until else ""]
        return "; ".join(p for p in parts if p) or "the whole engagement"


@dataclass(frozen=True)
class Included:
    item_id: str
    path: str
    size: int
    sha256: str
    name: str


@dataclass(frozen=True)
class Withheld:
    item_id: str
    name: str
    reason: str


@dataclass
class ExportResult:
    engagement: str
    recipient: str
    request_ref: str
    bag_name: str
    included: list[Included]
    withheld: list[Withheld]
    coverage: list[tuple[str, str, str]]
    dry_run: bool
    export_id: str | None = None
    output: str | None = None
    bundle_sha256: str | None = None
    bundle_size: int | None = None
    hashes: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"engagement": self.engagement, "recipient": self.recipient,
                "request_ref": self.request_ref, "bag": self.bag_name,
                "dry_run": self.dry_run, "export_id": self.export_id, "output": self.output,
                "bundle_sha256": self.bundle_sha256, "bundle_size": self.bundle_size,
                "included": [{"id": i.item_id, "path": i.path, "size": i.size,
                              "sha256": i.sha256} for i in self.included],
                "withheld": [{"id": w.item_id, "name": w.name, "reason": w.reason}
                             for w in self.withheld],
                "coverage": [{"requested": r, "type": t, "answer": a}
                             for r, t, a in self.coverage]}


def _request_ref(text: str) -> str:
    text = (typed_text(text, "request reference", 200) or "").strip()
    if not text or not text.isprintable():
        raise InvalidInput("a request reference is 1-200 printable characters",
                           hint="the QA request's number or name, e.g. QA-2026-014")
    return text


def _mask(text: str | None) -> str:
    """Free text going into the bag (a reason): card data masked, one line."""
    if not text:
        return ""
    return " ".join(masked(text, card_findings(names.card_probe(text))).split())


@dataclass
class _Plan:
    eng: Engagement
    recipient: ExportRecipient
    scope: Scope
    requested: list[tuple[str, str]]
    items: dict[str, EvidenceItem]
    included: list[EvidenceItem]
    withheld: list[Withheld]
    paths: dict[str, str]
    reqs: dict[str, list[str]]
    refs: dict[str, list[str]]
    replaced: dict[str, str]


def _plan(cx: Context, s: Session, eng: Engagement, recipient: ExportRecipient,
          scope: Scope) -> _Plan:
    """What goes and what does not, and why (one query per table, none per item)."""
    every = {i.id: i for i in s.exec(select(EvidenceItem).where(
        EvidenceItem.engagement_id == eng.id, col(EvidenceItem.state).in_(VISIBLE))).all()}
    ids = list(every)
    reqs: dict[str, list[str]] = {i: [] for i in ids}
    for item_id, req in s.exec(select(ItemRequirement.item_id, ItemRequirement.requirement_id)
                               .where(col(ItemRequirement.item_id).in_(ids))
                               .order_by(col(ItemRequirement.requirement_id))).all():
        reqs[item_id].append(req)
    refs: dict[str, list[str]] = {i: [] for i in ids}
    for item_id, ref in s.exec(select(ItemRocRef.item_id, ItemRocRef.ref)
                               .where(col(ItemRocRef.item_id).in_(ids))
                               .order_by(col(ItemRocRef.ref))).all():
        refs[item_id].append(ref)
    newer: dict[str, str] = {}
    for it in every.values():
        if it.supersedes_id:
            newer[it.supersedes_id] = it.id
    held_refs = {r for rs in refs.values() for r in rs}
    for r in scope.roc_refs:
        if r not in held_refs:
            raise NotFound(f"no evidence of engagement {eng.name!r} carries the ROC reference "
                           f"{r}", hint="`vault item set ITEM --roc-ref` adds one")
    for i in scope.items:
        if i not in every:
            raise NotFound(f"no item {i[:12]} in engagement {eng.name!r}")

    def wanted_req(item_id: str) -> bool:
        return any(r == q or r.startswith(q + ".") for r in reqs[item_id]
                   for q in scope.requirements)

    selected: list[str] = []
    for item_id, it in sorted(every.items(), key=lambda kv: (kv[1].ingested_at, kv[0])):
        if scope.roc_refs or scope.requirements or scope.items:
            if not (set(refs[item_id]) & set(scope.roc_refs) or wanted_req(item_id)
                    or item_id in scope.items):
                continue
        if scope.kinds and it.kind not in scope.kinds:
            continue
        day = it.ingested_at.astimezone(UTC).date()
        if (scope.since and day < scope.since) or (scope.until and day > scope.until):
            continue
        selected.append(item_id)
    included: list[EvidenceItem] = []
    withheld: list[Withheld] = []
    replaced: dict[str, str] = {}
    queue, seen = list(selected), set()
    while queue:
        item_id = queue.pop(0)
        if item_id in seen:
            continue
        seen.add(item_id)
        it = every[item_id]
        d = rules.decide(recipient.type, recipient.client, eng.client, it, newer.get(item_id))
        if d.included:
            included.append(it)
        elif d.replaced:
            replaced[item_id] = newer[item_id]
            withheld.append(Withheld(item_id, it.original_name,
                                     f"redacted: replaced by its redacted version "
                                     f"{newer[item_id][:12]}"))
            queue.append(newer[item_id])
        else:
            withheld.append(Withheld(item_id, it.original_name, d.outcome))
    paths = {it.id: names.payload_path(it.kind, it.id, it.original_name) for it in included}
    requested = [(r, "roc-ref") for r in scope.roc_refs] + [
        (q, "requirement") for q in scope.requirements]
    if not requested:  # everything the items in scope answer, sent or withheld
        requested = sorted({(r, "roc-ref") for i in seen for r in refs[i]}) + sorted(
            {(q, "requirement") for i in seen for q in reqs[i]})
    return _Plan(eng, recipient, scope, requested, every, included, withheld, paths, reqs, refs,
                 replaced)


def _coverage(p: _Plan) -> list[tuple[str, str, str]]:
    out = []
    why = {w.item_id: w.reason for w in p.withheld}
    for what, kind in p.requested:
        def answers(item_id: str, what: str = what, kind: str = kind) -> bool:
            if kind == "roc-ref":
                return what in p.refs[item_id]
            return any(r == what or r.startswith(what + ".") for r in p.reqs[item_id])
        files = sorted(p.paths[i] for i in p.paths if answers(i))
        if files:
            out.append((what, kind, "; ".join(files)))
            continue
        held = sorted({why[i] for i in why if answers(i)})
        out.append((what, kind, ("withheld: " + "; ".join(held)) if held else "none held"))
    return out


def _result(p: _Plan, request_ref: str, day: str, dry_run: bool) -> ExportResult:
    return ExportResult(
        p.eng.name, p.recipient.name, request_ref, names.bag_name(p.eng.name, request_ref, day),
        [Included(i.id, p.paths[i.id], i.size, i.sha256 or "", i.original_name)
         for i in p.included], p.withheld, _coverage(p), dry_run)


def _tsv(rows: Iterable[Iterable[str]]) -> bytes:
    return "".join("\t".join(" ".join(c.split()) for c in r) + "\n" for r in rows
                   ).encode("utf-8")


def _custody(s: Session, p: _Plan) -> bytes:
    ids = [i.id for i in p.included]
    users = {u.id: u.name for u in s.exec(select(User)).all()}
    flags: dict[str, list[str]] = {i: [] for i in ids + list(p.replaced)}
    for f in s.exec(select(Flag).where(col(Flag.item_id).in_(ids + list(p.replaced)))
                    .order_by(col(Flag.created_at), col(Flag.id))).all():
        decided = (f" {f.state} by {users.get(f.resolved_by or '', '?')} at "
                   f"{f.resolved_at.isoformat() if f.resolved_at else '?'}: {_mask(f.reason)}"
                   if f.state != "open" else " open")
        flags[f.item_id].append(f"{f.kind} {f.masked}{decided}")
    changes: dict[str, list[str]] = {i: [] for i in ids}
    for ev in s.exec(select(AuditEvent).where(AuditEvent.action == "item.disclose",
                                              AuditEvent.outcome == "ok",
                                              col(AuditEvent.object).in_(ids))
                     .order_by(col(AuditEvent.seq))).all():
        d = json.loads(ev.detail or "{}")
        changes[ev.object].append(f"{d.get('from')} -> {d.get('to')} by {ev.actor} at "
                                  f"{ev.at.isoformat()}: {_mask(d.get('reason'))}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["item", "file", "original_name", "kind", "disclosure", "ingested_at",
                "ingested_by", "sha256", "size", "versions", "requirements", "roc_refs",
                "flag_decisions", "disclosure_changes"])
    for it in sorted(p.included, key=lambda i: p.paths[i.id]):
        chain: list[str] = []
        decisions = list(flags[it.id])
        cur = it
        while cur.supersedes_id and cur.supersedes_id in p.items and len(chain) < 100:
            cur = p.items[cur.supersedes_id]
            decisions += [f"(on {cur.id[:12]}) {d}" for d in flags.get(cur.id, [])]
            chain.append(f"redacted from {cur.id} (sha256 {cur.sha256}, ingested "
                         f"{cur.ingested_at.isoformat()} by {users.get(cur.ingested_by, '?')}; "
                         "original crypto-shredded)")
        w.writerow([it.id, p.paths[it.id], _mask(it.original_name), it.kind, it.disclosure,
                    it.ingested_at.isoformat(), users.get(it.ingested_by, "?"), it.sha256,
                    str(it.size), " | ".join(chain), " ".join(p.reqs[it.id]),
                    " ".join(p.refs[it.id]), " | ".join(decisions),
                    " | ".join(changes[it.id])])
    return buf.getvalue().encode("utf-8")


def _nodes(s: Session, size: int, indexes: list[int]) -> merkle.NodeLookup:
    """The tree nodes the inclusion proofs of these leaves need, read in a few queries (which
    nodes a proof needs depends only on the index and the size, not on the hashes)."""
    needed: set[tuple[int, int]] = set()

    def record(level: int, idx: int) -> bytes:
        needed.add((level, idx))
        return bytes(32)

    for i in indexes:
        merkle.inclusion_proof(i, size, record)
    by_level: dict[int, list[int]] = {}
    for level, idx in needed:
        by_level.setdefault(level, []).append(idx)
    found: dict[tuple[int, int], bytes] = {}
    for level, idxs in by_level.items():
        for start in range(0, len(idxs), 500):
            for idx, h in s.exec(select(AuditNode.idx, AuditNode.hash).where(
                    AuditNode.level == level,
                    col(AuditNode.idx).in_(idxs[start:start + 500]))).all():
                found[(level, idx)] = h

    def lookup(level: int, idx: int) -> bytes:
        h = found.get((level, idx))
        if h is None:
            raise audit.damaged(f"its tree node {level}/{idx} is missing")
        return h
    return lookup


def _audit_excerpt(s: Session, p: _Plan, signer: bag.Signer, at: datetime
                   ) -> list[tuple[str, bytes]]:
    """The events of the included items (and of the originals they replace), each with its
    inclusion proof against the log's current tree head, which the exporter signs. A client
    does not see the item's earlier exports (they name other recipients)."""
    size, root = audit.head(s)
    objs = [i.id for i in p.included] + list(p.replaced)
    q = select(AuditEvent).where(AuditEvent.engagement_id == p.eng.id,
                                 col(AuditEvent.object).in_(objs))
    if p.recipient.type != "council":  # earlier exports name their recipients: Council only
        q = q.where(AuditEvent.action != "item.export")
    events = list(s.exec(q.order_by(col(AuditEvent.seq))).all())
    last = events[-1].seq if events else 0
    seqs = list(s.exec(select(col(AuditEvent.seq)).where(col(AuditEvent.seq) <= last)
                       .order_by(col(AuditEvent.seq))).all())
    indexed = [(bisect.bisect_left(seqs, ev.seq), ev) for ev in events]  # type: ignore[type-var]
    indexed = [(i, ev) for i, ev in indexed if i < size]
    nodes = _nodes(s, size, [i for i, _ in indexed])
    lines = []
    for index, ev in indexed:
        doc = audit.canonical(ev.prev_hash, ev.at, ev.actor, ev.action, ev.object, ev.outcome,
                              ev.engagement_id, ev.detail)
        proof = merkle.inclusion_proof(index, size, nodes)
        lines.append(json.dumps({"index": index, "seq": ev.seq, "event": doc.decode("utf-8"),
                                 "leaf_hash": merkle.leaf_hash(doc).hex(),
                                 "proof": [h.hex() for h in proof]}, ensure_ascii=False))
    head = signing.tree_head_message(size, root.hex(), at.astimezone(UTC).isoformat())
    return [("audit/events.jsonl", "".join(line + "\n" for line in lines).encode("utf-8")),
            ("audit/tree-head.txt", head), ("audit/tree-head.txt.sig", signer.sign(head))]


def _firm(ca_pem: str) -> str:
    """The firm's name, as its CA certificate has it (organisation, else common name)."""
    from cryptography import x509  # loaded by an export, not by every command
    from cryptography.x509.oid import NameOID

    subject = x509.load_pem_x509_certificate(ca_pem.encode("ascii")).subject
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        found = subject.get_attributes_for_oid(oid)
        if found:
            return str(found[0].value)
    return subject.rfc4514_string()


Progress = Callable[[int], None]


def _vault_dirs(cx: Context) -> list[Path]:
    """The vault's own directories, where no bundle may be written: its temporary directory,
    the SQLite database's directory (the vault home), a local store's root."""
    dirs = [cx.tmp_dir]
    db = cx.engine.url.database
    if cx.engine.dialect.name == "sqlite" and db and db != ":memory:" \
            and not db.startswith("file:"):
        dirs.append(Path(db).parent)
    root = getattr(cx.store, "root", None)  # the local store's
    if isinstance(root, Path):
        dirs.append(root)
    return dirs


def export(cx: Context, ref: str, *, to: str, request_ref: str, output: Path | None,
           scope: Scope, dry_run: bool = False, force: bool = False,
           progress: Progress | None = None,
           on_plan: Callable[[ExportResult], None] | None = None) -> ExportResult:
    """Export (see the module docstring). `on_plan` sees what will go before the streaming
    starts (a progress bar takes its total from it); `progress` is told each block's size."""
    request_ref = _request_ref(request_ref)
    for k in scope.kinds:
        if k not in KINDS:
            raise InvalidInput(f"unknown kind {k!r}", hint="one of: " + ", ".join(KINDS))
    if scope.since and scope.until and scope.since > scope.until:
        raise InvalidInput("--since is after --until")
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
        recipient = find_recipient(s, to)
        items: list[str] = []
        for i in scope.items:
            it, owner = cx.find_item(s, i)
            if owner.id != eng.id:  # named neither: this is before the permission check
                raise InvalidInput(f"item {i.strip()[:12]!r} belongs to another engagement, "
                                   f"not {eng.name!r}")
            items.append(it.id)
    reqs: list[str] = []
    if scope.requirements:
        cat = catalogue_service.current(cx, eng.standard)
        for q in scope.requirements:
            found = cat.resolve(q.strip())
            if found is None:
                raise InvalidInput(f"requirement {q!r} is not in the {cat.title} catalogue")
            reqs.append(found[0].id)
    scope = Scope(roc_refs(scope.roc_refs), tuple(dict.fromkeys(reqs)), scope.kinds,
                  scope.since, scope.until, tuple(dict.fromkeys(items)))
    dest = None if dry_run or output is None else bag.check_output(output, force,
                                                                  _vault_dirs(cx))
    if dest is None and not dry_run:
        raise InvalidInput("an export needs an output file (-o FILE)")
    with cx.act("export.create", eng) as a:  # the engagement's client named only past the check
        if recipient.type == "client" and recipient.client != eng.client:
            raise InvalidInput(f"recipient {recipient.name!r} is bound to the client "
                               f"{recipient.client!r}: it cannot receive evidence of "
                               f"engagement {eng.name!r} (client {eng.client!r})")
        s = a.s
        at = cx.clock()
        day = at.astimezone(UTC).date().isoformat()
        plan = _plan(cx, s, eng, recipient, scope)
        result = _result(plan, request_ref, day, dry_run)
        if dry_run:
            a.record = False
            return result
        if not plan.included:
            raise InvalidInput(
                f"nothing to export: {len(plan.withheld)} item(s) in scope, none may go to "
                f"{recipient.name!r}" if plan.withheld else
                "nothing to export: no evidence in scope",
                hint="--dry-run lists what is withheld and why")
        if on_plan is not None:
            on_plan(result)
        signer: bag.Signer = cx.signer(s)  # refused, naming who can certify, without one
        keys: dict[str, X25519Identity] = {}
        for it in plan.included:
            if it.key_id not in keys:
                keys[it.key_id] = cx.engagement_identity(s, it.key_id)
        export_id = cx.new_id()
        tag_files = [("custody.csv", _custody(s, plan)),
                     ("coverage.tsv", _tsv([("requested", "type", "answer")]
                                           + result.coverage)),
                     ("exclusions.tsv", _tsv([("item", "reason")] + [
                         (w.item_id, w.reason) for w in plan.withheld])),
                     ("signer.pem", signer.certificate_pem.encode("ascii")),
                     ("firm-ca.pem", signer.ca_pem.encode("ascii")),
                     ("VERIFY.txt", auditor.verify_txt(result.bag_name, dest.name
                                                       if dest else "BUNDLE.age").encode())]
        tag_files += _audit_excerpt(s, plan, signer, at)
        a.s.commit()  # nothing is held open while the bundle streams

        def source(it: EvidenceItem) -> Callable[[], Iterable[bytes]]:
            return lambda: retrieve.plaintext(it, cx.store, keys[it.key_id])

        the_bag = bag.Bag(
            result.bag_name, int(at.timestamp()),
            [("Source-Organization", _firm(signer.ca_pem)),
             ("External-Identifier", request_ref),
             ("Bagging-Date", day),
             ("Bag-Software-Agent", SOFTWARE),
             ("Engagement", eng.name), ("Client", eng.client), ("Standard", eng.standard),
             ("Request-Reference", request_ref),
             ("Recipient", f"{recipient.name} ({recipient.type}"
                           + (f", client {recipient.client}" if recipient.client else "")
                           + f", fingerprint {recipient.fingerprint})"),
             ("Scope", scope.as_text()), ("Exporter", signer.name),
             ("Export-Date", at.astimezone(UTC).isoformat()), ("Export-Id", export_id),
             ("Withheld", str(len(plan.withheld)))],
            [bag.Payload(plan.paths[it.id], it.size, source(it), it.sha256)
             for it in plan.included],
            tag_files, signer)
        assert dest is not None
        written = bag.write_partial(bag.tar_stream(the_bag, progress),
                                    X25519Recipient.from_str(recipient.age_recipient), dest,
                                    rng=cx.rng)
        try:
            a.s.add(ExportRecord(
                id=export_id, engagement_id=eng.id, recipient=recipient.name,
                recipient_type=recipient.type, recipient_fingerprint=recipient.fingerprint,
                request_ref=request_ref, bag_name=result.bag_name,
                bundle_sha256=written.sha256, bundle_size=written.size,
                items=len(plan.included), payload_bytes=sum(i.size for i in plan.included),
                withheld=len(plan.withheld), created_at=at, created_by=cx.user.id))
            a.obj = f"export/{export_id}"
            a.detail = {"recipient": recipient.name, "recipient_type": recipient.type,
                        "fingerprint": recipient.fingerprint, "request_ref": request_ref,
                        "bundle_sha256": written.sha256, "items": len(plan.included),
                        "withheld": len(plan.withheld)}
            for it in plan.included:
                a.event("item.export", it.id, {"export": export_id, "sha256": it.sha256,
                                               "recipient": recipient.name})
            a.commit()
            bag.install(written.path, dest, force)
        except BaseException:
            written.path.unlink(missing_ok=True)
            raise
    result.export_id, result.output = export_id, str(dest)
    result.bundle_sha256, result.bundle_size = written.sha256, written.size
    result.hashes = {p: h[0] for p, h in the_bag.hashes.items()}
    return result


def exports(cx: Context, ref: str) -> list[ExportRecord]:
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    with cx.act("export.list", eng) as a:
        return list(a.s.exec(select(ExportRecord).where(ExportRecord.engagement_id == eng.id)
                             .order_by(col(ExportRecord.created_at))).all())
