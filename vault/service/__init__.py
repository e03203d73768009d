"""The service layer: the one facade (:class:`Vault`) that the CLI and the TUI call.

Every verb goes through ``Context.act()`` (:mod:`vault.service.context`): permission check,
work, audit event, written once. The verbs live in modules named after their concept:
``engagements``, ``evidence``, ``browse``, ``review``, ``people``, ``audit``, ``store``.
"""

from vault.evidence.vocabulary import DISCLOSURES, KINDS
from vault.service.context import Clock, Rng, utcnow
from vault.service.facade import Vault
from vault.service.views import (
    FlagView,
    IngestOptions,
    IngestResult,
    ItemFilter,
    ItemPage,
    ItemView,
    Resolution,
    VerifyResult,
    engagement_dict,
    event_dict,
)

__all__ = ["DISCLOSURES", "KINDS", "Clock", "FlagView", "IngestOptions", "IngestResult",
           "ItemFilter", "ItemPage", "ItemView", "Resolution", "Rng", "Vault", "VerifyResult",
           "engagement_dict", "event_dict", "utcnow"]
