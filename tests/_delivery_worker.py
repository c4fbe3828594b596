"""Subprocess for the crash tests: deliver once at ``now`` into a loopback SMTP server.

Run as ``python tests/_delivery_worker.py RULES DB NOW PORT``; the test sets
``LEADSLA_CRASH_AT`` so the delivery code SIGKILLs this process at one point.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from leadsla.delivery.senders import Senders
from leadsla.delivery.timeouts import SendLimits
from leadsla.pipelines.tick import deliver_phase
from leadsla.smtp import SmtpSettings

if __name__ == "__main__":
    rules, db, now, port = sys.argv[1:5]
    res = deliver_phase(
        rules_dir=Path(rules),
        db=Path(db),
        now=datetime.fromisoformat(now),
        channels=Senders(
            smtp=SmtpSettings(host="127.0.0.1", port=int(port), timeouts=SendLimits(2, 5, 10))
        ),
    )
    print(res.as_dict())
