"""Completion of requirement ids from the engagement's catalogue, in a comma-separated Input."""

from __future__ import annotations

from textual.suggester import Suggester

from vault import catalogue


class RequirementSuggester(Suggester):
    """Completes the last comma-separated id: '1.2.1, 10.2' suggests '1.2.1, 10.2.1'."""

    def __init__(self, standard: str) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.ids = [r.id for r in catalogue.load(standard).requirements]

    async def get_suggestion(self, value: str) -> str | None:
        token = value.rpartition(",")[2].lstrip()
        if not token:
            return None
        for rid in self.ids:
            if rid.startswith(token) and rid != token:
                return value + rid[len(token):]
        return None


def split_requirements(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in value.replace(";", ",").split(",")
                               if p.strip()))
