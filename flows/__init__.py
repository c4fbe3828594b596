"""Prefect flows: thin wiring over the ``leadsla`` library, which never imports Prefect."""
