"""Processes that wire sources, queues, the classifier and the router together."""
