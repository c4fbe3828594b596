"""The dbt project ships inside the leadsla package: an installed wheel finds it without a
checkout beside it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import leadsla
from leadsla import warehouse

REPO = Path(__file__).resolve().parent.parent


def test_the_dbt_project_is_found_inside_the_package() -> None:
    package = Path(leadsla.__file__).resolve().parent
    assert warehouse.DBT_PROJECT.resolve() == package / "dbt_project"
    assert (warehouse.DBT_PROJECT / "dbt_project.yml").is_file()
    assert (warehouse.DBT_PROJECT / "profiles.yml").is_file()


def test_every_file_of_the_dbt_project_is_package_data() -> None:
    """Every file dbt reads from the project (SQL, YAML, doc blocks) matches a package-data
    pattern of pyproject.toml, so the wheel carries it; nothing else lives there."""
    package = REPO / "leadsla"
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["leadsla"]
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    project = package / "dbt_project"
    ignored = {"target", "logs", "dbt_packages"}
    files = {
        p
        for p in project.rglob("*")
        if p.is_file() and not ignored & set(p.relative_to(project).parts)
    }
    assert len(files) > 30
    assert {p.suffix for p in files} <= {".sql", ".yml", ".md"}, files
    missing = sorted(str(p.relative_to(package)) for p in files - shipped)
    assert not missing, missing
