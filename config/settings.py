"""The settings schema: one frozen ``Settings`` built from a YAML file and the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("config/mention-router.yaml")
ENV_PREFIX = "MENTION_ROUTER_"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TopicNames(_Section):
    """Queue topic names; change them to share one broker between deployments."""

    mentions: str = "mentions"
    classified: str = "classified"
    decisions: str = "decisions"
    assignments: str = "assignments"
    dead_letters: str = "dead-letters"
    actions: str = "actions"


class QueueSettings(_Section):
    url: str = Field(
        "embedded:var/queue.db",
        description="embedded:PATH (default, no server), memory:// (tests) or kafka://HOST:PORT",
    )
    topics: TopicNames = TopicNames()
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 512
    poll_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5
    partitions: Annotated[
        int, Field(ge=1, le=1024, description="Kafka: partitions of mentions and assignments")
    ] = 6
    replication_factor: Annotated[
        int, Field(ge=1, le=16, description="Kafka: copies of each topic")
    ] = 1
    startup_timeout_seconds: Annotated[
        float, Field(ge=0, le=3600, description="how long to retry an unreachable queue at start")
    ] = 60.0


class ClassifierSettings(_Section):
    model: Path = Path("var/model.skops")
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 512
    unknown_threshold: Annotated[
        float, Field(ge=0.0, le=1.0, description="below this topic confidence: `unknown`")
    ] = 0.35
    urgency_policy: Path | None = Field(
        None, description="urgency policy YAML (e.g. config/urgency.yaml); unset: built-in"
    )
    corrections: Path = Path("var/corrections.jsonl")


class RoutingSettings(_Section):
    roster: Path = Path("config/roster.yaml")
    taxonomy: Path = Path("config/taxonomy.yaml")
    policy: Literal["adaptive", "greedy", "balance", "round-robin", "least-loaded"] = "adaptive"
    escalation_lead: Annotated[float, Field(ge=0, lt=1)] = 0.1
    escalation_targets: dict[str, str] = Field(
        default_factory=dict, description="team -> who gets its escalations; '*' for the rest"
    )
    stickiness_minutes: Annotated[float, Field(ge=0)] = 24 * 60
    accept_timeout_minutes: Annotated[float, Field(gt=0)] | None = None
    max_declines: Annotated[int, Field(ge=1)] = 2
    plan_hold_minutes: Annotated[
        float,
        Field(
            ge=0,
            description="adaptive: a planned mention waits for the next plan while its last "
            "chance is further away than this and its person is still at work then; 0: never",
        ),
    ] = 60


class MetricsSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535, description="0 turns the endpoint off")] = 9464


class OutputSettings(_Section):
    assignments: Path = Path("var/assignments.jsonl")
    dead_letters: Path = Path("var/dead-letters.jsonl")


class XSettings(_Section):
    """The X (Twitter) API v2 connector; the bearer token comes from the environment."""

    enabled: bool = False
    api_base_url: str = Field(
        "https://api.twitter.com", description="where API requests go (a proxy, a test server)"
    )
    bearer_token: SecretStr | None = Field(
        None, description="app bearer token; set MENTION_ROUTER_LISTENING__X__BEARER_TOKEN"
    )
    stream: bool = Field(True, description="filtered stream (with catch-up search on reconnect)")
    user_id: str | None = Field(None, description="brand account whose mentions timeline is read")
    mentions_poll_seconds: Annotated[float, Field(ge=1, le=86_400)] = 60.0
    backoff_initial_seconds: Annotated[float, Field(gt=0, le=3600)] = 1.0
    backoff_max_seconds: Annotated[float, Field(gt=0, le=86_400)] = 320.0
    max_catch_up_pages: Annotated[int, Field(ge=1, le=1000)] = 10


class WebhookSettings(_Section):
    """The HTTP endpoint other platforms and tools push mentions to."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8088
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    max_batch: Annotated[int, Field(ge=1, le=100_000)] = 1000
    secret: SecretStr | None = Field(
        None, description="generic format: when set, X-Signature-256 (HMAC-SHA256) is required"
    )
    meta_app_secret: SecretStr | None = Field(None, description="Meta: X-Hub-Signature-256 key")
    meta_verify_token: SecretStr | None = Field(None, description="Meta: hub.verify_token")


class ListeningSettings(_Section):
    """What ``mention-router listen`` listens for and with which connectors."""

    rules: Path = Path("config/listening.yaml")
    dedup_capacity: Annotated[
        int, Field(ge=1000, le=100_000_000, description="ids remembered to drop duplicates")
    ] = 1_000_000
    record: Path | None = Field(None, description="append what is ingested to this stream")
    x: XSettings = XSettings()
    webhook: WebhookSettings = WebhookSettings()


class WebhookTarget(_Section):
    """An outgoing webhook told of each new assignment of one employee or one team."""

    url: SecretStr = Field(description="the incoming-webhook URL (a secret: it is never logged)")
    format: Literal["json", "slack", "teams"] = "json"
    employee: str | None = None
    team: str | None = None

    @model_validator(mode="after")
    def _one_recipient(self) -> WebhookTarget:
        if (self.employee is None) == (self.team is None):
            raise ValueError("a webhook names exactly one of employee and team")
        return self


class InboxSettings(_Section):
    """The inbox: HTTP API and web page for employees and team leads."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8470
    tokens: Path = Field(Path("var/inbox-tokens.json"), description="hashed per-person tokens")
    group: str = Field("inbox", description="consumer group of the read model; one per process")
    public_url: str = Field("", description="the inbox's address, linked from notifications")
    webhooks: tuple[WebhookTarget, ...] = ()
    webhook_attempts: Annotated[int, Field(ge=1, le=20)] = 5


class Settings(BaseSettings):
    """Everything mention-router reads at start-up. Relative paths are relative to the cwd."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        yaml_file=None,
    )

    queue: QueueSettings = QueueSettings()
    classifier: ClassifierSettings = ClassifierSettings()
    routing: RoutingSettings = RoutingSettings()
    metrics: MetricsSettings = MetricsSettings()
    output: OutputSettings = OutputSettings()
    listening: ListeningSettings = ListeningSettings()
    inbox: InboxSettings = InboxSettings()
    state_dir: Path = Path("var")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then the environment, then the YAML file.
        yaml_file: Any = settings_cls.model_config.get("yaml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)
