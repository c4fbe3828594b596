"""Where leadsla finds its rules, exports and database: one settings object, one precedence.

A command-line flag (or a flow parameter) beats the environment (``LEADSLA_RULES``,
``LEADSLA_EXPORTS``, ``LEADSLA_DB``, ``LEADSLA_HOME``), which beats a settings file, which
beats the default. The file is ``leadsla.toml`` in the working directory, or the file
``LEADSLA_CONFIG`` names; relative paths in it, as in flags, are relative to the working
directory. The CLI and every flow resolve through :func:`load_settings`, so they cannot
disagree. Secrets (``LEADSLA_SMTP_URL``, endpoint tokens) stay in the environment or Prefect
blocks, never in this file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

#: The settings file looked for in the working directory when ``LEADSLA_CONFIG`` is unset.
CONFIG_FILE = "leadsla.toml"
CONFIG_ENV = "LEADSLA_CONFIG"


class SettingsInvalid(ValueError):
    """A setting that cannot be used: one sentence naming the setting and the fix."""


class Settings(BaseSettings):
    """Paths every command and flow runs against."""

    model_config = SettingsConfigDict(
        env_prefix="LEADSLA_", env_ignore_empty=True, extra="forbid", frozen=True
    )

    #: the rules folder (sla_rules/)
    rules: str = "sla_rules"
    #: the exports folder or fsspec URL the CRM drops files into
    exports: str = "exports"
    #: the DuckDB file of the event log and lead state
    db: str = "leadsla.duckdb"
    #: the checkout holding prefect.yaml (``leadsla prefect setup``; the worker's pull step)
    home: str = "."

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (init), then the environment, then the file; the defaults come last."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_path()),
        )


def config_path() -> Path | None:
    """The settings file in force: ``LEADSLA_CONFIG``'s (which must exist), else
    ``leadsla.toml`` in the working directory if there is one, else None."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsInvalid(
                f"{CONFIG_ENV} names {named}, which is not a file: point it at a leadsla.toml "
                "or unset it"
            )
        return path
    local = Path(CONFIG_FILE)
    return local if local.is_file() else None


def load_settings(**flags: str | None) -> Settings:
    """The settings, with ``flags`` (None or empty: not given) above everything else. Raises
    :class:`SettingsInvalid` with one sentence for a bad file or value."""
    given: dict[str, Any] = {k: v for k, v in flags.items() if v}
    try:
        return Settings(**given)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsInvalid(
            f"{config_path()} is not valid TOML ({exc}): fix the line it names"
        ) from None
    except ValidationError as exc:
        raise SettingsInvalid(_one_sentence(exc)) from None


def _one_sentence(exc: ValidationError) -> str:
    known = ", ".join(Settings.model_fields)
    err = exc.errors()[0]
    name = ".".join(str(p) for p in err["loc"]) or "?"
    where = config_path() or "the flags"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown setting {name!r}; the settings are {known}"
    return f"setting {name!r} in {where}: {err['msg'].lower()}; give it as text, a path"
