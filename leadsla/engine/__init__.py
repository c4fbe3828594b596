"""The engine: named steps over the store's connection, each declaring what it reads and returns.

Each step is one module here with a module-level ``STEP`` (:class:`leadsla.engine.step.Step`)
and its SQL in ``sql/<step name>/*.sql`` (Jinja templates; shared fragments in ``sql/_fragments``).
A step may build private work tables, but a work table read by another step must be that step's
``returns`` and be named in the reader's ``reads``; ``tests/test_engine_contract.py`` checks this
by reading the SQL files.
"""
