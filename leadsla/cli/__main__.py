"""``python -m leadsla.cli``: the same as the ``leadsla`` command."""

from leadsla.cli import main

raise SystemExit(main())
