"""Ops-owned rules (``sla_rules/``): models, loading, validation and JSON Schema export."""

from leadsla.rules.loader import RuleError, RuleSet, RulesInvalid, load_rules

__all__ = ["RuleError", "RuleSet", "RulesInvalid", "load_rules"]
