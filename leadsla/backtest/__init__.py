"""The backtest's parts: the dry channels replays deliver through (:mod:`.dry`), the
comparison of two replayed databases (:mod:`.compare`) and its page, JSON and CSV
(:mod:`.page`). The pipeline that composes them is :mod:`leadsla.pipelines.backtest`."""
