"""Messages that carry a worker's results back to the UI thread."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Loaded(Message):
    """A worker finished loading `what`; `data` is whatever the screen asked for."""

    def __init__(self, what: str, data: Any, generation: int = 0) -> None:
        super().__init__()
        self.what = what
        self.data = data
        self.generation = generation


class Done(Message):
    """A worker finished a change (`what`) successfully."""

    def __init__(self, what: str, data: Any = None) -> None:
        super().__init__()
        self.what = what
        self.data = data
