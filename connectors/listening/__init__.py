"""Listening rules: what counts as a brand mention, and the matcher that applies them."""

from connectors.listening.matcher import RuleMatcher
from connectors.listening.rules import BrandRules, ListeningRules

__all__ = ["BrandRules", "ListeningRules", "RuleMatcher"]
