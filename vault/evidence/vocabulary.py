"""The vault's small fixed vocabularies, in a module cheap to import (the CLI's parser needs
them before it knows whether the command opens a vault at all)."""

KINDS = ("screenshot", "log_export", "config_export", "interview_note", "document", "other")
DISCLOSURES = ("team", "client", "council-only")
RECIPIENT_TYPES = ("council", "client")

ROC_REF_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
"""A ROC evidence reference number as the report cites it (``DOC-12``, ``E.4.1``): letters,
digits, dots, dashes and underscores, at most 64 characters."""
