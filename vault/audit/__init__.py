"""The audit log: append-only events in a Merkle tree, signed tree heads, verification."""
