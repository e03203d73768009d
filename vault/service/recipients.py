"""The export recipients registry (administrators): who a bundle may be encrypted to.

A recipient has a type — ``council`` (the PCI SSC) or ``client`` (bound to one client: it can
only receive evidence of that client's engagements) — and an age X25519 recipient, whose
fingerprint (SHA-256 of the ``age1…`` string) is shown on add, for comparing out of band."""

from __future__ import annotations

from sqlmodel import col, select

from vault.errors import AlreadyExists, InvalidInput, NotFound
from vault.evidence.vocabulary import RECIPIENT_TYPES
from vault.export import refs
from vault.metadata.models import Engagement, ExportRecipient
from vault.pii.fields import refuse_card_data
from vault.service.context import Context


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidInput("a recipient name is 1-200 printable characters")
    refuse_card_data(name, "recipient name")
    return name


def add_recipient(cx: Context, name: str, type_: str, age_recipient: str,
                  client: str | None = None) -> ExportRecipient:
    name = _check_name(name)
    if type_ not in RECIPIENT_TYPES:
        raise InvalidInput(f"unknown recipient type {type_!r}",
                           hint="one of: " + ", ".join(RECIPIENT_TYPES))
    if type_ == "client" and not (client or "").strip():
        raise InvalidInput("a client recipient needs --client (the client it is bound to)")
    if type_ == "council" and client:
        raise InvalidInput("a council recipient is bound to no client: drop --client")
    key = refs.age_recipient(age_recipient)
    with cx.act("recipient.add", f"recipient/{name}") as a:
        s = a.s
        if s.exec(select(ExportRecipient).where(ExportRecipient.name == name)).first():
            raise AlreadyExists(f"a recipient named {name!r} exists already",
                                hint="`vault recipient list` shows them")
        if type_ == "client":
            assert client is not None
            client = client.strip()
            if s.exec(select(Engagement.id).where(Engagement.client == client)).first() is None:
                raise NotFound(f"no engagement has the client {client!r}",
                               hint="the name must be the client of an engagement, as "
                                    "`vault engagement list` shows it")
        r = ExportRecipient(id=cx.new_id(), name=name, type=type_, age_recipient=key,
                            client=client if type_ == "client" else None,
                            fingerprint=refs.fingerprint(key), created_at=cx.clock(),
                            created_by=cx.user.id)
        s.add(r)
        a.obj = f"recipient/{r.id}"
        a.detail = {"name": name, "type": type_, "client": r.client,
                    "fingerprint": r.fingerprint}
        return r


def list_recipients(cx: Context) -> list[ExportRecipient]:
    with cx.act("recipient.list", "recipients") as a:
        return list(a.s.exec(select(ExportRecipient).order_by(col(ExportRecipient.name))).all())


def find_recipient(s: object, ref: str) -> ExportRecipient:
    r = s.exec(select(ExportRecipient).where(  # type: ignore[attr-defined]
        ExportRecipient.name == ref.strip())).first()
    if r is None:
        raise NotFound(f"no export recipient {ref!r}",
                       hint="`vault recipient list` shows them; an administrator adds one "
                            "with `vault recipient add`")
    return r  # type: ignore[no-any-return]


def remove_recipient(cx: Context, name: str) -> None:
    with cx.act("recipient.remove", f"recipient/{name.strip()}") as a:
        r = find_recipient(a.s, name)
        a.obj = f"recipient/{r.id}"
        a.detail = {"name": r.name, "fingerprint": r.fingerprint}
        a.s.delete(r)
