"""Ops-owned rules (``sla_rules/``): one model module per rule file (``*_models``, with
``base`` and ``records`` shared), loading and cross-file checks (``loader``, ``references``),
the validated :class:`RuleSet` (``ruleset``), errors (``errors``) and JSON Schema export
(``schema``)."""

from leadsla.rules.errors import RuleError, RulesInvalid
from leadsla.rules.loader import load_rules
from leadsla.rules.ruleset import RuleSet

__all__ = ["RuleError", "RuleSet", "RulesInvalid", "load_rules"]
