"""RFC 9162 Merkle tree: roots, inclusion proofs, verification."""

from __future__ import annotations

import hashlib

import pytest

from vault.audit import merkle


def reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, literally."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(reference_mth(leaves[:k]), reference_mth(leaves[k:]))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 100])
def test_frontier_and_stored_nodes_agree_with_the_rfc(n: int) -> None:
    leaves = [f"event {i}".encode() for i in range(n)]
    f = merkle.Frontier()
    nodes: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(leaves):
        for level, idx, h in f.append(merkle.leaf_hash(leaf)):
            nodes[(level, idx)] = h
        assert f.root() == reference_mth(leaves[: i + 1])
        assert merkle.tree_root(i + 1, lambda lv, ix: nodes[(lv, ix)]) == f.root()
    assert f.root() == reference_mth(leaves)


def test_known_answer_for_the_empty_tree() -> None:
    assert merkle.EMPTY_ROOT.hex() == \
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 33])
def test_every_inclusion_proof_verifies_and_tampering_fails(size: int) -> None:
    leaves = [f"e{i}".encode() for i in range(size)]
    f = merkle.Frontier()
    nodes: dict[tuple[int, int], bytes] = {}
    for leaf in leaves:
        for level, idx, h in f.append(merkle.leaf_hash(leaf)):
            nodes[(level, idx)] = h
    root = f.root()
    for i, leaf in enumerate(leaves):
        proof = merkle.inclusion_proof(i, size, lambda lv, ix: nodes[(lv, ix)])
        assert merkle.verify_inclusion(i, size, merkle.leaf_hash(leaf), proof, root)
        assert not merkle.verify_inclusion(i, size, merkle.leaf_hash(b"forged"), proof, root)
        if proof:
            bad = [bytes(32)] + proof[1:]
            assert not merkle.verify_inclusion(i, size, merkle.leaf_hash(leaf), bad, root)
        if size > 1:
            other = (i + 1) % size
            assert not merkle.verify_inclusion(other, size, merkle.leaf_hash(leaf), proof, root)
