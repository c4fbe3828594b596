"""``leadsla init``: a rules folder a new team starts from, valid as written.

It holds one office calendar in the team's zone with its country's public holidays, one team
(a lead and an agent), seed 000's intents and policies, the canonical sources in that zone,
e-mail notifications to the team and the JSON Schemas (messages use the shipped templates).
Everything a new team must then change is listed in ``docs/data_teams.md`` ("Starting a new team").
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadsla.rules.calendar_models import holiday_region
from leadsla.rules.schema import write_schemas
from leadsla.rules.skeleton_files import FILES


class SkeletonRefused(ValueError):
    """A flag or the target folder is unusable; the message is one sentence with the fix."""


def check_zone_flag(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SkeletonRefused(
            f"--timezone {zone!r} is not an IANA time zone: give one such as Europe/Berlin"
        ) from exc
    return zone


def check_country_flags(country: str, subdivision: str | None) -> tuple[str, str | None]:
    """The country (and subdivision) in the holidays package's spelling, or a refusal."""
    try:
        return holiday_region(country, subdivision, names=("--country", "--subdivision"))
    except ValueError as exc:
        raise SkeletonRefused(str(exc)) from None


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise SkeletonRefused(f"{target} is a file: give a new or empty folder")
    if target.is_dir() and any(target.iterdir()):
        raise SkeletonRefused(
            f"{target} is not empty: init writes only into a new or empty folder, so it "
            "never overwrites rules"
        )


def render_files(zone: str, country: str, subdivision: str | None, name: str) -> dict[str, str]:
    """Relative path -> text of each rule file, placeholders filled."""

    def scalar(value: str) -> str:  # a YAML string whatever it holds ("02" stays text)
        return json.dumps(value, ensure_ascii=False)

    subdiv_line = f"      subdivision: {scalar(subdivision)}\n" if subdivision else ""
    values = {
        "@ZONE@": scalar(zone),
        "@COUNTRY@": scalar(country),
        "@SUBDIVISION@": subdiv_line,
        "@NAME@": scalar(name),
    }
    out = {}
    for rel, text in FILES.items():
        for key, value in values.items():
            text = text.replace(key, value)
        out[rel] = text
    return out


def write_skeleton(
    target: Path,
    *,
    timezone: str,
    country: str,
    subdivision: str | None = None,
    name: str = "New team",
) -> list[Path]:
    """Write the skeleton into ``target`` (new or empty); return the files written. Refuses
    (:class:`SkeletonRefused`) before writing anything."""
    zone = check_zone_flag(timezone)
    code, sub = check_country_flags(country, subdivision)
    _check_target(target)
    written = []
    for rel, text in render_files(zone, code, sub, name).items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    written.extend(write_schemas(target / "schema"))
    return written
