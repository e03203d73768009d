"""An engagement is never reached by someone else's name for it (hardening: name shadowing)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.conftest import ingest_one
from vault.age import X25519Identity
from vault.errors import InvalidInput, NotFound
from vault.metadata.models import Engagement
from vault.service import Vault


@pytest.mark.parametrize("name", ["deadbeef", "2026", "CAFE", " 0a1b2c3d4e5f "])
def test_a_name_may_not_look_like_an_id(vault: Vault, name: str) -> None:
    with pytest.raises(InvalidInput, match="may not look like an id") as exc:
        vault.create_engagement(name, client="c", standard="pci-dss-4.0.1")
    assert exc.value.hint


def test_names_that_merely_contain_hex_are_fine(vault: Vault) -> None:
    for name in ("acme-2026", "beef and cafe", "2026 Q1", "abc"):
        vault.create_engagement(name, client="c", standard="pci-dss-4.0.1")


def test_an_attacker_cannot_shadow_another_engagement_by_its_id(
        vault: Vault, engagement: str, make_vault) -> None:  # type: ignore[no-untyped-def]
    """Mallory may create engagements; a name equal to the victim's id or its prefix is refused,
    and the id (or its prefix) still reaches the real engagement."""
    real = vault.engagement(engagement)[0]
    mallory_id = X25519Identity.generate()
    vault.add_user("mallory", str(mallory_id.recipient))
    mallory = make_vault(mallory_id, "mallory")
    for shadow in (real.id, real.id[:8], real.id[:12].upper()):
        with pytest.raises(InvalidInput, match="may not look like an id"):
            mallory.create_engagement(shadow, client="c", standard="pci-dss-4.0.1")
    r = ingest_one(vault, real.id[:8], "a.txt", b"evidence")
    assert r.view.engagement == engagement
    assert vault.engagement(real.id)[0].id == real.id


def test_an_old_name_that_looks_like_another_id_is_ambiguous(vault: Vault,
                                                             engagement: str) -> None:
    """A vault made before the rule may hold such a name: neither one is picked silently."""
    real = vault.engagement(engagement)[0]
    other = vault.create_engagement("other", client="c", standard="pci-dss-4.0.1")
    with Session(vault.engine) as s:  # as an older version allowed
        row = s.get(Engagement, other.id)
        assert row is not None
        row.name = real.id[:8]
        s.add(row)
        s.commit()
    with pytest.raises(InvalidInput, match="is both an engagement's name and the start of "
                                           "another engagement's id"):
        vault.list_items(real.id[:8])
    assert vault.engagement(real.id)[0].id == real.id  # the whole id always wins
    with pytest.raises(NotFound):
        vault.engagement("no-such-engagement")


def test_the_cli_says_which_engagement_an_ingest_went_into(initialised) -> None:  # type: ignore[no-untyped-def]
    import json
    run = initialised
    assert run("engagement", "create", "acme-2026", "--client", "c",
               "--standard", "pci-dss-4.0.1").code == 0
    eng = json.loads(run("engagement", "show", "acme-2026", "--json").out)
    r = run("ingest", eng["id"][:8], "-", "--name", "a.txt", stdin=b"alpha")
    assert r.code == 0
    assert f"into engagement acme-2026 ({eng['id'][:8]})" in r.err
