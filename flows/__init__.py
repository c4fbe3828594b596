"""Prefect flows: thin wiring over ``leadsla`` (the library never imports Prefect)."""
