"""What every rule model shares: the strict base (unknown keys are errors, values immutable),
the id and time-of-day shapes, intents and weekdays, and the check of a time zone name.

Every model forbids unknown keys (``extra="forbid"``) so a misspelled key is an error with the
file and key path, never a silently ignored setting. The JSON Schemas exported from these models
are referenced from each YAML file, so editors flag mistakes before ``leadsla check`` does.
Business policy lives in the rule files as data; the engine has no policy constants of its own.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

Intent = Literal["high", "mid", "low", "unclear"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_ID = r"^[a-z0-9][a-z0-9_.@+-]*$"
Id = Annotated[str, Field(pattern=_ID, min_length=1, max_length=120)]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")]


class Strict(BaseModel):
    """Base for every rule model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_zone(value: str) -> str:
    """``value`` if it is an IANA time zone name, else a ValueError saying what to write."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as 'Asia/Kolkata' or 'UTC'"
        ) from exc
    return value
