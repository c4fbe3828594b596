"""``sla_rules/calendars.yaml``: business calendars (working windows per weekday, a zone,
holidays) that every deadline is computed on."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator, model_validator

from leadsla.rules.base import HHMM, Id, Strict, Weekday, check_zone


class Window(Strict):
    """One working window in local wall-clock time. ``end`` earlier than ``start`` crosses
    midnight (a night shift 22:00–06:00 belongs to the day it starts on)."""

    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if self.start == self.end:
            raise ValueError(f"window {self.start}–{self.end} is empty: start equals end")
        return self


def holiday_region(
    country: str, subdivision: str | None, *, names: tuple[str, str] = ("country", "subdivision")
) -> tuple[str, str | None]:
    """The country (and subdivision) in the ``holidays`` package's spelling, or a ValueError
    naming the value (as ``names`` call them: keys, or a command's flags) and a valid one."""
    import holidays as holidays_pkg

    supported = holidays_pkg.list_supported_countries()
    code = country.strip().upper()
    if code not in supported:
        raise ValueError(
            f"{names[0]} {country!r} is not a country the holidays package knows: give an "
            "ISO 3166 code such as DE"
        )
    if subdivision is None:
        return code, None
    subdivs = {s.upper(): s for s in supported[code]}
    sub = subdivs.get(str(subdivision).strip().upper())
    if sub is None:
        example = next(iter(supported[code]), None)
        hint = f"one of {code}'s codes such as {example}" if example else f"no {names[1]}"
        raise ValueError(f"{names[1]} {subdivision!r} is not a subdivision of {code}: give {hint}")
    return code, sub


class HolidaySpec(Strict):
    """Public holidays from the ``holidays`` package plus explicit dates (company days off)."""

    country: str | None = Field(
        default=None, description="ISO 3166 country code for the holidays package, e.g. IN"
    )
    subdivision: str | None = Field(default=None, description="state/province code, e.g. MH")
    dates: list[date] = Field(default_factory=list, description="extra local dates off")
    exclude: list[date] = Field(
        default_factory=list, description="public holidays the team works anyway"
    )

    @model_validator(mode="after")
    def _known_region(self) -> HolidaySpec:
        if self.country is None:
            if self.subdivision is not None:
                raise ValueError("a subdivision needs its country: add country, e.g. IN")
            return self
        code, sub = holiday_region(self.country, self.subdivision)
        object.__setattr__(self, "country", code)  # the package's spelling (frozen model)
        object.__setattr__(self, "subdivision", sub)
        return self


class CalendarRule(Strict):
    id: Id
    timezone: str = Field(description="IANA time zone of the windows and holidays")
    always_open: bool = Field(default=False, description="24/7: every minute is business time")
    hours: dict[Weekday, list[Window]] = Field(
        default_factory=dict, description="working windows per weekday; missing days are off"
    )
    holidays: HolidaySpec = Field(default_factory=HolidaySpec)

    _zone = field_validator("timezone")(check_zone)

    @model_validator(mode="after")
    def _has_time(self) -> CalendarRule:
        if not self.always_open and not any(self.hours.values()):
            raise ValueError("a calendar needs working hours or always_open: true")
        return self


class CalendarsFile(Strict):
    calendars: list[CalendarRule]
