"""Messages a person can act on, rendered from the shipped templates
(``leadsla/delivery/templates/``), each overridable by a file of the same name in the rules
folder's ``templates/messages/``.

Jinja with autoescape for HTML (CRM names and messages are untrusted) and StrictUndefined (a
template that names a missing field fails loudly in tests, not silently blank in an inbox).
Each event type has ``<type>.subject.txt``, ``<type>.txt`` and ``<type>.html``. What comes out
is one subject line and bodies without control characters (:mod:`leadsla.delivery.safety`).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from leadsla.delivery.safety import clean_line, clean_text

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")
_PHONE = re.compile(r"\+?\d(?:[\s().-]?\d){7,}")


def mask(text: str) -> str:
    """Emails and phone numbers masked for logs: ``r***@acme.example``, ``+91******10``."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: m.group(0)[:3] + "*" * 6 + m.group(0)[-2:], text)


#: The templates shipped with the package: a rules folder overrides any of them by name.
SHIPPED = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=8)
def environment(root: str) -> jinja2.Environment:
    """The message environment for a rules folder's ``templates/messages`` (``root``): its
    files first, then the shipped ones."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(root), jinja2.FileSystemLoader(str(SHIPPED))]
        ),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["local"] = _local
    return env


def _local(value: Any, tz: str = "UTC") -> str:
    """An ISO timestamp in the recipient's zone, as people read it."""
    if value is None or value == "":
        return "-"
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return t.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M %Z")


def render_message(templates: Path, event_type: str, ctx: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) for one message."""
    env = environment(str(templates))
    subject = env.get_template(f"{event_type}.subject.txt").render(ctx)
    text = env.get_template(f"{event_type}.txt").render(ctx)
    html = env.get_template(f"{event_type}.html").render(ctx)
    return clean_line(subject, 200), clean_text(text), clean_text(html)
