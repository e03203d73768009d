"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, inclusion proofs and their
verification. Pure functions over bytes; storage of subtree hashes is the audit module's."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

Hash = bytes


def leaf_hash(data: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """Incremental root computation: the hashes of the perfect subtrees on the right edge."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, Hash]] = []  # (level, hash), levels strictly decreasing

    def append(self, leaf: Hash) -> list[tuple[int, int, Hash]]:
        """Add a leaf hash; returns the (level, index, hash) of every perfect subtree completed."""
        done = [(0, self.size, leaf)]
        level, h = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            h = node_hash(left, h)
            level += 1
            done.append((level, self.size >> level, h))
        self._stack.append((level, h))
        self.size += 1
        return done

    def push(self, leaf: Hash) -> None:
        """append() without reporting the completed subtrees (the fast path for verification)."""
        stack, level, h = self._stack, 0, leaf
        while stack and stack[-1][0] == level:
            h = hashlib.sha256(b"\x01" + stack.pop()[1] + h).digest()
            level += 1
        stack.append((level, h))
        self.size += 1

    def root(self) -> Hash:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h


NodeLookup = Callable[[int, int], Hash]
"""(level, index) -> hash of the perfect subtree over leaves [index*2^level, (index+1)*2^level)."""


def subtree_root(start: int, n: int, node: NodeLookup) -> Hash:
    """MTH of leaves [start, start+n), with `start` aligned as RFC 9162's recursion makes it."""
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return node(level, start >> level)
    k = _split(n)
    return node_hash(subtree_root(start, k, node), subtree_root(start + k, n - k, node))


def tree_root(size: int, node: NodeLookup) -> Hash:
    return EMPTY_ROOT if size == 0 else subtree_root(0, size, node)


def inclusion_proof(index: int, size: int, node: NodeLookup) -> list[Hash]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, leaf to root order."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    path: list[Hash] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            path.append(subtree_root(start + k, n - k, node))
            n = k
        else:
            path.append(subtree_root(start, k, node))
            start, n, m = start + k, n - k, m - k
    path.reverse()
    return path


def verify_inclusion(index: int, size: int, leaf: Hash, proof: list[Hash], root: Hash) -> bool:
    """RFC 9162 section 2.1.3.2: does `proof` show leaf `index` is in the tree of `size`?"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
