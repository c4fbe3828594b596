"""Lead issues (seed 002's SOP): intake, validation, routing and the three-level ladder.

An agent who cannot move a lead forward raises an *issue* (a blocker: serviceability, pricing,
a technical fault, ...). Issues arrive as canonical ``issues*`` exports (or through
``leadsla issue raise``, :mod:`leadsla.issues.intake`, which writes one) and go through the
same tick as leads, as engine steps:

1. ``issue_intake`` (load): set-wise diff into ``issue_state``; new issues are ``issue_raised``.
   Then ``issue_verdict``, in the same file's transaction: validation of every version the
   file shows, timed with its export (``issue_rejected`` with what to add, or valid).
2. :func:`leadsla.issues.run.evaluate_issues` (evaluate), set-based over unsettled issues:
   ``issue_routing`` (owning teams, high value, senior agent, whether it may climb),
   ``issue_ladder`` (``issue_escalated`` level by level, each judged as of its threshold) and
   ``issue_responses`` (``issue_responded`` / ``issue_resolved`` in business minutes).

:mod:`leadsla.issues.render` renders the few new messages (rendering is per message, deciding
is per set).
"""
