"""The one home of configuration: a YAML file plus ``VIGIL_*`` environment overrides.

Precedence, highest first: values passed in code (CLI flags), environment variables
(``VIGIL_UPSTREAM__URL=...``; ``__`` separates nested keys), the YAML file, the defaults below.
Every key is documented by its ``description``: vigil.example.yaml lists them, and the Helm
chart's values.schema.json is generated from these models (scripts/helm_schema.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from adapter.rollout.settings import RolloutSettings
from gateway.judges.base import Action
from gateway.judges.categories import Category

__all__ = [
    "AuthSettings",
    "EventsSettings",
    "FeedbackSettings",
    "GatewaySettings",
    "KafkaSettings",
    "LimitsSettings",
    "ModelAlias",
    "PhraseJudgeSettings",
    "PolicyRule",
    "PolicySettings",
    "RolloutSettings",
    "ServerSettings",
    "TopicSettings",
    "UpstreamSettings",
    "load_settings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Address the gateway listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port the gateway listens on.")
    log_level: str = Field(default="info", description="debug, info, warning or error.")


class UpstreamSettings(_Section):
    url: str = Field(default="http://127.0.0.1:8000",
                     description="Base URL of the serving engine (vLLM or `vigil engine`).")
    replicas: list[str] = Field(
        default_factory=list, description="Base URLs of every serving replica; requests go "
        "to the least busy one that has the model loaded. Empty: just `url`.")
    discover_dns: bool = Field(
        default=False, description="Resolve the host name of each replica URL (or `url`) to "
        "all its addresses, each a replica: a Kubernetes headless Service.")
    check_interval_s: float = Field(
        default=2.0, gt=0, description="How often replicas are checked (up, models loaded) "
        "when the rollout is off; with it on, every `rollout.reconcile_interval_s`.")

    @property
    def replica_urls(self) -> list[str]:
        return self.replicas or [self.url]
    api_key: str | None = Field(default=None,
                                description="Bearer key the gateway sends upstream, if any.")
    connect_timeout_s: float = Field(default=5.0, gt=0,
                                     description="Seconds to open a connection upstream.")
    read_timeout_s: float = Field(
        default=120.0, gt=0,
        description="Seconds to wait for upstream bytes (first byte, or between stream "
                    "chunks) before answering 504.")
    max_connections: int = Field(default=512, ge=1,
                                 description="Connection pool size towards the upstream.")


class LimitsSettings(_Section):
    max_body_bytes: int = Field(
        default=4 << 20, ge=1024, description="Largest request body accepted, in bytes; a "
        "larger one is refused with 413 before it is read (its Content-Length) or as soon as "
        "the bytes read pass it (a chunked body).")
    max_messages: int = Field(default=256, ge=1,
                              description="Most messages one chat request may carry (400).")
    max_tokens: int = Field(
        default=32768, ge=1, description="Largest `max_tokens` / `max_completion_tokens` a "
        "request may ask for (400). Absent in a request: the engine's own limit.")


class ModelAlias(_Section):
    upstream: str = Field(description="Upstream model or adapter name this alias maps to.")
    description: str | None = Field(default=None, description="Shown nowhere; for humans.")


class AuthSettings(_Section):
    keys: dict[str, str] = Field(
        default_factory=dict,
        description="API key -> tenant. Empty (and no admin keys) means the gateway is open.")
    admin_keys: list[str] = Field(default_factory=list,
                                  description="Keys allowed on admin routes.")
    reviewer_keys: list[str] = Field(
        default_factory=list,
        description="Keys whose feedback corrections may become training targets. A reviewer "
                    "key must also be listed in `keys` (for its tenant) or `admin_keys`.")

    allow_open: bool = Field(
        default=False, description="Without any key the gateway is open to whoever reaches "
        "it; it then starts only on a loopback address unless this is true.")

    @property
    def open(self) -> bool:
        return not self.keys and not self.admin_keys


Part = Literal["input", "output", "reasoning"]


class PhraseJudgeSettings(_Section):
    enabled: bool = Field(default=False, description="Run the phrase/regex judge.")
    phrases: list[str] = Field(default_factory=list,
                               description="Case-insensitive phrases; any occurrence matches.")
    patterns: list[str] = Field(default_factory=list, description="Python regular expressions.")
    category: str = Field(default=Category.PHRASE,
                          description="Category its verdicts carry (see `policy.rules`).")
    apply_to: list[Part] = Field(
        default_factory=lambda: ["input", "output", "reasoning"],
        description="Which parts of an exchange it judges.")

    @field_validator("patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return patterns


class GuardModelSettings(_Section):
    url: str | None = Field(default=None, description="Base URL of an OpenAI-compatible "
                            "server hosting the guard model (vLLM or `vigil engine`).")
    model: str = Field(default="meta-llama/Llama-Guard-3-1B",
                       description="Model name to ask the server for.")
    api_key: str | None = Field(default=None, description="Bearer key for that server.")
    prompt_format: Literal["llama_guard_3", "qwen3guard"] = Field(
        default="llama_guard_3", description="Which guard model's prompt and answer format.")
    timeout_s: float = Field(default=5.0, gt=0, description="Per guard call.")
    fail_mode: Literal["open", "closed"] = Field(
        default="open", description="When the guard cannot answer: open = treat as safe "
        "(score 0; the cascade backend keeps the embedded judge's score instead), closed = "
        "treat as harmful (score 1). Failures are logged with their reason.")
    stream_every_chars: int = Field(
        default=96, ge=1, description="In a stream, call the guard again once this much "
        "new text has arrived (and at the end). Text not judged yet is read before the "
        "hold-back releases it, so below the hold-back's size in characters (about 4 per "
        "held chunk) the guard is called less often for the same protection.")


class CascadeSettings(_Section):
    uncertain_low: float = Field(
        default=0.2, ge=0.0, le=1.0, description="Embedded harm scores in [uncertain_low, "
        "uncertain_high) are uncertain: the guard model decides them, and its verdict is sent "
        "as a judge label (topic `labels`). Outside the band the embedded judge decides.")
    uncertain_high: float = Field(default=0.8, ge=0.0, le=1.0,
                                  description="The band's upper end (see uncertain_low).")

    @model_validator(mode="after")
    def _ordered(self) -> CascadeSettings:
        if self.uncertain_low >= self.uncertain_high:
            raise ValueError(f"uncertain_low ({self.uncertain_low!r}) must be below "
                             f"uncertain_high ({self.uncertain_high!r})")
        return self


class HarmJudgeSettings(_Section):
    enabled: bool = Field(default=True, description="Run the harm judge.")
    backend: Literal["embedded", "guard", "cascade"] = Field(
        default="embedded", description="embedded = the CPU classifier shipped in the package "
        "(or `artefact`, or the active version in `versions_dir`); guard = a guard LLM behind "
        "`guard.url`; cascade = the embedded judge decides confident cases and the guard LLM "
        "the uncertain ones (`cascade`).")
    artefact: Path | None = Field(default=None, description="A classifier built by `vigil "
                                  "judges train` or `vigil judges adapt`; default: the one "
                                  "shipped in the package.")
    versions_dir: Path | None = Field(
        default=None, description="A judge registry (`vigil judges list`): the embedded "
        "judge runs its active version, and swaps to a newly promoted (or rolled back) one "
        "without a restart; with no active version, `artefact`. The trainer publishes judge "
        "refreshes here.")
    versions_poll_s: float = Field(default=5.0, gt=0, description="How often the registry's "
                                   "active version is checked.")
    encoder: bool = Field(
        default=True, description="Embedded backend: read requests, replies and reasoning "
        "with the classifier's fine-tuned multilingual encoder (the shipped artefact has one): "
        "tens of milliseconds a text on one core, judged while the engine prefills (see "
        "judges.input_mode). false = its n-gram half only (faster, much weaker: replies are "
        "then scored by their request and only nearly certain words of their own).")
    encoder_precision: Literal["int8", "float32"] = Field(
        default="int8", description="Embedded backend: the encoder layers' arithmetic. int8 "
        "(ONNX Runtime's dynamic quantization; each text runs alone, so no request's score "
        "depends on another's text): about twice the float32 throughput here. float32: "
        "exactly the build's arithmetic.")
    apply_to: list[Part] = Field(default_factory=lambda: ["input", "output", "reasoning"],
                                 description="Which parts of an exchange it judges.")
    stream_window_chars: int = Field(
        default=300, ge=64, description="In a stream, each judgement reads this much of the "
        "newest text (a sliding window) instead of everything so far; about what the "
        "encoder reads at once (80 tokens).")
    stream_recent_chars: int = Field(
        default=160, ge=0, description="Embedded backend: in a stream, also judge this much of "
        "the newest text alone (0 = off), so harm that begins after a long benign lead is not "
        "diluted by it in a long window.")
    stream_every_chars: int = Field(
        default=128, ge=1, description="Embedded backend: judge the window again once this "
        "much new text has arrived (and at the end of the stream). Text not judged yet is "
        "read before the hold-back releases it, whatever this is.")
    guard: GuardModelSettings = Field(default_factory=GuardModelSettings,
                                      description="The guard-model backend.")
    cascade: CascadeSettings = Field(default_factory=CascadeSettings,
                                     description="The cascade backend's uncertain band.")


class LanguageJudgeSettings(_Section):
    enabled: bool = Field(default=True, description="Run the language-consistency judge.")
    languages: list[str] = Field(
        default_factory=lambda: ["en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "fr",
                                 "de", "es", "pt", "ru", "ja"],
        description="ISO 639-1 codes the detector may answer; fewer is faster and surer.")
    tenant_languages: dict[str, str] = Field(
        default_factory=dict, description="Tenant -> expected language, instead of the "
        "language of the latest user turn.")
    min_words: int = Field(default=4, ge=1,
                           description="Text with fewer words than this is not judged.")
    apply_to: list[Part] = Field(default_factory=lambda: ["output", "reasoning"],
                                 description="Which parts of an exchange it judges.")


class RefusalJudgeSettings(_Section):
    enabled: bool = Field(default=True, description="Run the refusal / over-refusal judge.")
    benign_below: float = Field(
        default=0.5, ge=0.0, le=1.0, description="A refusal of a request whose harm score is "
        "below this is an over-refusal.")
    apply_to: list[Part] = Field(default_factory=lambda: ["output"],
                                 description="Which parts of an exchange it judges.")


class PIIJudgeSettings(_Section):
    enabled: bool = Field(default=True, description="Run the PII judge (category `pii`).")
    kinds: list[str] = Field(
        default_factory=lambda: ["secret", "email", "iban", "card", "ip", "phone"],
        description="Which kinds of PII it looks for.")
    apply_to: list[Part] = Field(default_factory=lambda: ["output", "reasoning"],
                                 description="Which parts of an exchange it judges.")


class JudgesSettings(_Section):
    workers: int = Field(
        default=4, ge=1, description="Threads that run the judges, off the event loop; a "
        "request waits for a free one within its budget.")
    processes: int = Field(
        default=1, ge=0, description="Worker processes for text longer than one window "
        "(`window_chars`): its CPU time then never holds the gateway process's GIL against "
        "the event loop and other requests. Started by the first such text; 0 = threads only.")
    budget_s: float = Field(
        default=8.0, gt=0, description="Most seconds one judging step (a request, an answer, "
        "a stream chunk) may take, waiting for a worker included; past it the policy's "
        "`on_judge_timeout` applies. Keep it above `harm.guard.timeout_s`.")
    window_chars: int = Field(
        default=16384, ge=256, description="Text longer than this is judged in windows of "
        "this many characters (overlapping by 1/16), never skipped; a verdict is the highest "
        "over the windows.")
    input_mode: Literal["parallel", "before"] = Field(
        default="parallel", description="When the request is judged. parallel = sent "
        "upstream at once and judged while the engine prefills: nothing reaches the client "
        "before the input verdict, and a blocked request's upstream call is closed (the "
        "engine aborts it); the judges' time hides behind the engine's. before = judged "
        "first, sent only if allowed: no engine time is spent on blocked requests.")
    phrase: PhraseJudgeSettings = Field(default_factory=PhraseJudgeSettings,
                                        description="The phrase/regex judge.")
    harm: HarmJudgeSettings = Field(default_factory=HarmJudgeSettings,
                                    description="Harm: hazard categories, prompt and response.")
    language: LanguageJudgeSettings = Field(default_factory=LanguageJudgeSettings,
                                            description="Language consistency.")
    refusal: RefusalJudgeSettings = Field(default_factory=RefusalJudgeSettings,
                                          description="Refusal and over-refusal.")
    pii: PIIJudgeSettings = Field(default_factory=PIIJudgeSettings,
                                  description="PII in output (redact).")


class PolicyRule(_Section):
    action: Action = Field(description="allow, flag, redact or block.")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0,
                             description="A verdict scoring at least this takes the action.")


class TenantPolicy(_Section):
    rules: dict[str, PolicyRule] = Field(
        default_factory=dict, description="Category -> rule, over the global rules.")
    blocked_message: str | None = Field(default=None,
                                        description="This tenant's blocked message.")


class PolicySettings(_Section):
    rules: dict[str, PolicyRule] = Field(
        default_factory=lambda: {
            Category.PHRASE: PolicyRule(action=Action.BLOCK),
            Category.HARM: PolicyRule(action=Action.BLOCK, threshold=0.8),
            Category.OVER_REFUSAL: PolicyRule(action=Action.FLAG),
            Category.LANGUAGE_MIX: PolicyRule(action=Action.FLAG, threshold=0.3),
            Category.PII: PolicyRule(action=Action.REDACT)},
        description="Category -> rule. A category without a rule is only counted (allow). "
        "Given, it replaces the default rules as a whole.")
    tenants: dict[str, TenantPolicy] = Field(
        default_factory=dict, description="Tenant -> rules that replace the global rule of "
        "the same category for that tenant's traffic.")
    judges: dict[str, list[Part]] = Field(
        default_factory=dict, description="Judge name -> the parts it may run on (input, "
        "output, reasoning); narrows the judge's own `apply_to`. Absent: unchanged.")
    file: Path | None = Field(
        default=None, description="A YAML file holding this section (rules, tenants, judges, "
        "blocked_message). Reloaded when it changes and on POST /admin/policy/reload; an "
        "invalid file is rejected and the running policy stays.")
    reload_interval_s: float = Field(default=2.0, gt=0,
                                     description="How often the policy file is checked.")
    on_judge_timeout: Literal["block", "allow"] = Field(
        default="block", description="What happens to text the judges could not finish "
        "within `judges.budget_s`: block it (fail closed) or let it through unjudged (fail "
        "open). Counted in vigil_judge_timeouts_total either way.")
    blocked_message: str = Field(
        default="I can't help with that request.",
        description="What a client receives instead of blocked output.")
    stream_holdback_tokens: int = Field(
        default=32, ge=0,
        description="Streamed chunks (about one token each) held back until the judges have "
                    "passed them; the most text that can reach a client before a block.")


class TopicSettings(_Section):
    flagged: str = Field(default="vigil.flagged", description="Flagged exchanges.")
    samples: str = Field(default="vigil.samples", description="Sampled clean exchanges.")
    feedback: str = Field(default="vigil.feedback", description="Ratings and corrections.")
    labels: str = Field(default="vigil.labels", description="Judge labels: reviewers' verdicts "
                        "and the guard model's on cases the embedded judge was unsure of.")
    adapters: str = Field(default="vigil.adapters", description="Adapter lifecycle events.")
    dead_letter: str = Field(default="vigil.deadletter",
                             description="Messages the consumer could not read.")


class KafkaSettings(_Section):
    bootstrap_servers: list[str] = Field(default_factory=lambda: ["127.0.0.1:9092"],
                                         description="host:port of one or more brokers.")
    client_id: str = Field(default="vigil-gateway", description="Kafka client id.")
    compression_type: Literal["gzip", "none"] = Field(
        default="gzip", description="Producer compression (gzip needs no native library).")
    linger_ms: int = Field(
        default=50, ge=0,
        description="How long events wait to be sent together. Longer costs the gateway less "
                    "CPU per event under load (see bench/README.md), shorter delivers sooner.")
    batch_size: int = Field(default=131072, ge=1024, description="Producer batch bytes.")
    request_timeout_ms: int = Field(default=5000, ge=100,
                                    description="One produce request's timeout.")
    delivery_timeout_ms: int = Field(
        default=15000, ge=100,
        description="After this long undelivered, a batch goes to the spool instead.")
    security: dict[str, str | int | bool] = Field(
        default_factory=dict,
        description="Passed through to kafka-python: security_protocol, sasl_mechanism, "
                    "sasl_plain_username, sasl_plain_password, ssl_cafile, ssl_certfile ...")


class EventsSettings(_Section):
    backend: Literal["none", "kafka", "local"] = Field(
        default="none", description="Where events go: nowhere, Kafka, or the local log.")
    local_path: Path = Field(default=Path("vigil-data/events.db"),
                             description="The embedded log's SQLite file (backend: local).")
    spool_dir: Path = Field(default=Path("vigil-data/spool"),
                            description="Where events wait while Kafka is unreachable.")
    spool_max_bytes: int = Field(default=1 << 30, ge=1 << 16,
                                 description="Spool disk limit; past it events are dropped "
                                             "(counted and logged).")
    queue_size: int = Field(default=10000, ge=1,
                            description="In-memory queue between requests and the sender.")
    sample_rate: float = Field(default=0.0, ge=0.0, le=1.0,
                               description="Share of clean exchanges sent as replay samples.")
    tenant_sample_rates: dict[str, float] = Field(
        default_factory=dict, description="Per-tenant override of `sample_rate`.")
    response_memory: int = Field(default=10000, ge=0,
                                 description="Served responses remembered for feedback.")
    topics: TopicSettings = Field(default_factory=TopicSettings, description="Topic names.")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings, description="Kafka client.")


class FeedbackSettings(_Section):
    rate_per_minute: int = Field(default=60, ge=1,
                                 description="Feedback submissions allowed per key a minute.")


class GatewaySettings(BaseSettings):
    """Everything the gateway reads at start. Load with :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", env_nested_delimiter="__",
                                      extra="forbid")

    server: ServerSettings = Field(default_factory=ServerSettings, description="Listening.")
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings,
                                       description="The serving engine.")
    models: dict[str, ModelAlias] = Field(
        default_factory=dict,
        description="Public model name (alias) -> upstream model or adapter. Empty: every "
                    "upstream model is served under its own name.")
    auth: AuthSettings = Field(default_factory=AuthSettings, description="API keys.")
    limits: LimitsSettings = Field(default_factory=LimitsSettings,
                                   description="What one request may ask for.")
    judges: JudgesSettings = Field(default_factory=JudgesSettings, description="Judges.")
    policy: PolicySettings = Field(default_factory=PolicySettings, description="Actions.")
    events: EventsSettings = Field(default_factory=EventsSettings, description="Event bus.")
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings,
                                       description="The /v1/feedback route.")
    rollout: RolloutSettings = Field(default_factory=RolloutSettings,
                                     description="Adapters from the registry: canary, "
                                     "promotion, rollback.")
    trainer: dict[str, Any] = Field(
        default_factory=dict,
        description="The trainer's section of the same file; the trainer validates it "
                    "(trainer/settings.py), the gateway ignores it.")

    @model_validator(mode="before")
    @classmethod
    def _alias_shorthand(cls, data: Any) -> Any:
        # `models: {public: upstream-name}` is accepted as shorthand for `{upstream: ...}`.
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            data = dict(data)
            data["models"] = {k: ({"upstream": v} if isinstance(v, str) else v)
                              for k, v in data["models"].items()}
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = settings_cls.model_config.get("yaml_file")
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        if yaml_file:
            sources += (YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file),)
        return sources


S = TypeVar("S", bound=GatewaySettings)


def load_settings(path: str | Path | None = None, cls: type[S] = GatewaySettings,  # type: ignore[assignment]
                  **overrides: Any) -> S:
    """Settings of class ``cls`` from ``path`` (YAML, optional), the environment and
    ``overrides``."""
    if path is None:
        return cls(**overrides)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    from_file = type(f"{cls.__name__}FromFile", (cls,), {
        "model_config": {**cls.model_config, "yaml_file": str(path)},
    })
    return from_file(**overrides)
