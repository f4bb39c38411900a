"""The exceptions mention-router raises, one root and a shallow tree.

    MentionRouterError
    ├── ConfigError            a settings, roster or taxonomy file is invalid (file, field, reason)
    ├── MalformedMentionError  a mention record cannot be parsed (source position, reason)
    ├── ModelError             a classifier model cannot be trained, saved or loaded
    │   ├── ModelFormatError       the file is not a model file, or holds types we do not trust
    │   └── ModelVersionError      the file was made by another scikit-learn version
    ├── TrainingDataError      training or evaluation data is unusable (missing column, one class)
    ├── QueueError             the queue backend failed
    │   └── QueueUnavailableError  the queue cannot be reached (broker down, file locked)
    └── ConnectorError         a mention source failed (connector name, reason)
        ├── PayloadError           a pushed or streamed payload was refused (reason)
        │   └── SignatureError         its signature is missing or wrong
        ├── RateLimitedError       the platform said 429 (when the limit resets)
        ├── AuthenticationError    the platform refused the credentials
        └── PlatformUnavailableError  the platform cannot be reached or answers 5xx

"Nobody can take this mention now" is not an error: it is a ``NotAssigned`` outcome.
"""

from __future__ import annotations


class MentionRouterError(Exception):
    """Root of every error mention-router raises on purpose."""


class ConfigError(MentionRouterError):
    """A configuration file or value is invalid."""

    def __init__(self, source: str, field: str, reason: str) -> None:
        self.source = source
        self.field = field
        self.reason = reason
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {reason}")


class MalformedMentionError(MentionRouterError):
    """A mention record could not be parsed or validated."""

    def __init__(self, reason: str, *, line: int | None = None, source: str = "") -> None:
        self.reason = reason
        self.line = line
        self.source = source
        where = source
        if line is not None:
            where = f"{source}:{line}" if source else f"line {line}"
        super().__init__(f"{where}: {reason}" if where else reason)


class ModelError(MentionRouterError):
    """A classifier model could not be trained, saved or loaded."""


class ModelFormatError(ModelError):
    """The file is not a mention-router model, or it holds types we do not trust."""


class ModelVersionError(ModelError):
    """The model file was written by a different scikit-learn version."""


class TrainingDataError(MentionRouterError):
    """Training or evaluation data cannot be used as given."""


class QueueError(MentionRouterError):
    """The queue backend failed."""


class QueueUnavailableError(QueueError):
    """The queue backend cannot be reached."""


class ConnectorError(MentionRouterError):
    """A mention source failed; ``connector`` is its bounded name (``x``, ``webhook`` ...)."""

    def __init__(self, connector: str, reason: str) -> None:
        self.connector = connector
        self.reason = reason
        super().__init__(f"{connector}: {reason}")


class PayloadError(ConnectorError):
    """A payload (webhook body, stream line) was refused; ``reason`` says why."""


class SignatureError(PayloadError):
    """A signed payload's signature is missing or does not match."""


class RateLimitedError(ConnectorError):
    """The platform refused a request for now; ``reset_at`` is its epoch second, if it said."""

    def __init__(self, connector: str, reason: str, *, reset_at: float | None = None) -> None:
        self.reset_at = reset_at
        super().__init__(connector, reason)


class AuthenticationError(ConnectorError):
    """The platform refused the credentials (401/403); retrying will not help."""


class PlatformUnavailableError(ConnectorError):
    """The platform cannot be reached, timed out or answered with a server error."""
