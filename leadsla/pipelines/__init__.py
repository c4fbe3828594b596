"""The pipelines, each composed once and used by the CLI and the Prefect flows alike.

:mod:`.tick` the tick's sequence (discover, load, evaluate, record, deliver) and its phases,
:mod:`.load` the load path (export files into lead state, one transaction each),
:mod:`.summary` what one tick did, :mod:`.review` the marts build and the daily review (the
weekly patterns' reading and writing is ``leadsla.report.patterns``).
"""
