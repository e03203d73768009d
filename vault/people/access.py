"""Who may do what: the one permission matrix (role x action).

Engagement roles come from membership; firm roles from the user record; every registered person
also holds the pseudo-role ``person`` (the destruction job does not). The service checks it once
per action, in ``Context.act()``, before any work, and audits a refusal there.
"""

from __future__ import annotations

from collections.abc import Iterable

ENGAGEMENT_ROLES = ("lead", "assessor", "qa", "viewer")
FIRM_ROLES = ("admin", "destruction-job")

_TEAM = frozenset(ENGAGEMENT_ROLES)

MATRIX: dict[str, frozenset[str]] = {
    "vault.status": frozenset({"person", "admin", "destruction-job"}),
    "engagement.create": frozenset({"person"}),
    "engagement.view": _TEAM | {"admin"},
    "engagement.complete": frozenset({"lead"}),
    "engagement.retention": frozenset({"lead"}),
    "retention.view": _TEAM | {"admin", "destruction-job"},
    "retention.overview": frozenset({"person", "admin", "destruction-job"}),
    "hold.place": frozenset({"lead", "qa", "admin"}),
    "hold.release": frozenset({"admin"}),
    "item.ingest": frozenset({"lead", "assessor"}),
    "item.list": _TEAM,
    "item.read": _TEAM,
    "item.read-quarantined": frozenset({"lead", "qa"}),
    "item.verify": frozenset({"lead", "assessor", "qa"}),
    "flag.list": _TEAM,
    "flag.resolve": frozenset({"lead", "qa"}),
    "user.add": frozenset({"admin"}),
    "user.list": frozenset({"admin"}),
    "user.certify": frozenset({"admin"}),
    "member.add": frozenset({"lead"}),
    "member.remove": frozenset({"lead"}),
    "member.list": _TEAM | {"admin"},
    "audit.read": frozenset({"lead", "qa", "admin"}),
    "audit.read-all": frozenset({"admin"}),
    "audit.verify": frozenset({"admin"}),
    "audit.proof": frozenset({"admin"}),
    "audit.export": frozenset({"admin"}),
    "audit.checkpoint": frozenset({"admin", "destruction-job"}),
    "audit.prune": frozenset({"admin", "destruction-job"}),
    "certificate.list": frozenset({"lead", "qa", "admin", "destruction-job"}),
    "certificate.show": frozenset({"lead", "qa", "admin", "destruction-job"}),
    "certificate.export": frozenset({"admin", "destruction-job"}),
    "signing.export": frozenset({"person", "admin", "destruction-job"}),
    "signing.rotate": frozenset({"admin"}),
    "store.check": frozenset({"person", "admin", "destruction-job"}),
    "store.doctor": frozenset({"admin"}),
    "catalogue.view": frozenset({"person"}),
    "catalogue.load": frozenset({"admin"}),
    "retention.destroy": frozenset({"destruction-job"}),
    "item.disclose": frozenset({"lead", "qa"}),
    "item.roc-ref": frozenset({"lead", "assessor", "qa"}),
    "recipient.add": frozenset({"admin"}),
    "recipient.remove": frozenset({"admin"}),
    "recipient.list": frozenset({"person", "admin"}),
    "export.create": frozenset({"lead", "qa"}),
    "export.list": frozenset({"lead", "qa"}),
}

AUDITED: frozenset[str] = frozenset({
    "engagement.create", "engagement.complete", "engagement.retention", "hold.place",
    "hold.release", "item.ingest", "item.read",
    "item.read-quarantined", "item.verify",
    "retention.destroy",
    "flag.resolve", "user.add", "user.certify", "member.add", "member.remove", "audit.verify",
    "audit.proof", "audit.export", "audit.checkpoint", "audit.prune", "certificate.export",
    "signing.rotate", "store.doctor", "catalogue.load", "item.disclose", "item.roc-ref",
    "recipient.add", "recipient.remove", "export.create",
})
"""Actions that leave an audit event whatever their outcome (done, failed or refused): every
read of evidence content and every change. The others only look at metadata: they leave an
event when they are refused."""

_WHAT: dict[str, str] = {
    "vault.status": "see this vault's status",
    "engagement.create": "create engagements",
    "engagement.view": "see {eng}",
    "engagement.complete": "set the completion date of {eng}",
    "engagement.retention": "set the retention of {eng}",
    "retention.view": "see the retention of {eng}",
    "retention.overview": "see retention across engagements",
    "hold.place": "place legal holds on {eng}",
    "hold.release": "release legal holds",
    "item.ingest": "add evidence to {eng}",
    "item.list": "list the evidence of {eng}",
    "item.read": "read the evidence of {eng}",
    "item.read-quarantined": "read quarantined evidence of {eng}",
    "item.verify": "verify the evidence of {eng}",
    "flag.list": "see the flags of {eng}",
    "flag.resolve": "decide the flags of {eng}",
    "user.add": "register people",
    "user.list": "list the people registered",
    "user.certify": "certify people's signing keys",
    "member.add": "add members to {eng}",
    "member.remove": "remove members from {eng}",
    "member.list": "see the members of {eng}",
    "audit.read": "read the audit log of {eng}",
    "audit.read-all": "read the whole audit log",
    "audit.verify": "verify the audit log",
    "audit.proof": "make audit inclusion proofs",
    "audit.export": "export the audit log",
    "audit.checkpoint": "sign the audit log's tree head",
    "audit.prune": "prune the audit log",
    "certificate.list": "list destruction certificates",
    "certificate.show": "see destruction certificates",
    "certificate.export": "export destruction certificates",
    "signing.export": "export the firm's public signing key",
    "signing.rotate": "rotate the firm's signing key",
    "store.check": "check the object store",
    "store.doctor": "run the store doctor",
    "catalogue.view": "see the requirement catalogues",
    "catalogue.load": "load requirement catalogues",
    "retention.destroy": "destroy evidence at the end of its retention",
    "item.disclose": "set the disclosure level of evidence in {eng}",
    "item.roc-ref": "set the ROC references of evidence in {eng}",
    "recipient.add": "register export recipients",
    "recipient.remove": "remove export recipients",
    "recipient.list": "list the export recipients",
    "export.create": "export the evidence of {eng}",
    "export.list": "list the exports of {eng}",
}


def allowed(action: str, roles: Iterable[str]) -> bool:
    """True when one of `roles` may perform `action`; unknown actions are never allowed."""
    permitted = MATRIX.get(action, frozenset())
    return any(role in permitted for role in roles)


def refusal(who: str, action: str, engagement: str | None) -> tuple[str, str]:
    """The message and hint of a refused action, in words (`engagement`: its name)."""
    what = _WHAT.get(action, "do that").format(
        eng=f"engagement {engagement!r}" if engagement else "this engagement")
    roles = sorted(MATRIX.get(action, frozenset()) - {"person"})
    if not roles:
        return f"{who} may not {what}", "no role may do that"
    names = [f"an engagement {r}" if r in ENGAGEMENT_ROLES else f"the firm role {r}"
             for r in roles]
    needs = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"{who} may not {what}", f"that needs {needs}"
