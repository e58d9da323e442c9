"""The error raised for an invalid case file."""

from __future__ import annotations

from typing import Any

__all__ = ["CaseError"]


class CaseError(ValueError):
    """A case file or case object is invalid.

    The message names the file, the field and the offending value, e.g.
    ``ieee69.json: net.line[12].to_bus = 999: unknown bus``.

    Attributes
    ----------
    file, field : str
        Where the problem is.
    value : Any
        The offending value (None if not applicable).
    """

    def __init__(self, file: str, field: str, value: Any, problem: str):
        self.file, self.field, self.value, self.problem = file, field, value, problem
        shown = "" if value is None else f" = {value!r}"
        super().__init__(f"{file}: {field}{shown}: {problem}")
