"""The vault's small fixed vocabularies, in a module cheap to import (the CLI's parser needs
them before it knows whether the command opens a vault at all)."""

KINDS = ("screenshot", "log_export", "config_export", "interview_note", "document", "other")
DISCLOSURES = ("team", "client", "council-only")
