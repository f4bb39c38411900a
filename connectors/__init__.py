"""Adapters to the outside world: mention sources and queue backends."""
