"""``python -m leadsla.cli``: the same as the ``leadsla`` command."""

from leadsla.cli import main

if __name__ == "__main__":  # not when a spawned worker process imports it (the backtest's)
    raise SystemExit(main())
