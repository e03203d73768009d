"""Retention: when an item may be destroyed (never earlier), and how the store holds it until
then (:mod:`vault.retention.dates`, :mod:`vault.retention.protect`)."""
