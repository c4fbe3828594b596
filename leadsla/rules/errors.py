"""A problem in the rules, told with the file, the key path and what to do about it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleError:
    """One problem in the rules: where (file and key path) and what to do about it."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key or '<file>'}: {self.message}"


class RulesInvalid(Exception):
    """Raised when the rules cannot be used; carries every error found."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
