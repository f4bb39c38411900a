"""Mentions pushed to us: the generic JSON format and Meta's page webhooks, and signatures."""

from connectors.webhooks.generic import parse_generic
from connectors.webhooks.meta import parse_meta
from connectors.webhooks.signature import sign, verify_signature, verify_subscription

__all__ = ["parse_generic", "parse_meta", "sign", "verify_signature", "verify_subscription"]
