"""The one home of configuration: a YAML file plus ``VIGIL_*`` environment overrides.

Precedence, highest first: values passed in code (CLI flags), environment variables
(``VIGIL_UPSTREAM__URL=...``; ``__`` separates nested keys), the YAML file, the defaults below.
Every key is documented by its ``description``; ``vigil config`` prints them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from gateway.judges.base import Action

__all__ = [
    "AuthSettings",
    "GatewaySettings",
    "ModelAlias",
    "PhraseJudgeSettings",
    "PolicyRule",
    "PolicySettings",
    "ServerSettings",
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


class ModelAlias(_Section):
    upstream: str = Field(description="Upstream model or adapter name this alias maps to.")
    description: str | None = Field(default=None, description="Shown nowhere; for humans.")


class AuthSettings(_Section):
    keys: dict[str, str] = Field(
        default_factory=dict,
        description="API key -> tenant. Empty (and no admin keys) means the gateway is open.")
    admin_keys: list[str] = Field(default_factory=list,
                                  description="Keys allowed on admin routes.")

    @property
    def open(self) -> bool:
        return not self.keys and not self.admin_keys


class PhraseJudgeSettings(_Section):
    enabled: bool = Field(default=False, description="Run the phrase/regex judge.")
    phrases: list[str] = Field(default_factory=list,
                               description="Case-insensitive phrases; any occurrence matches.")
    patterns: list[str] = Field(default_factory=list, description="Python regular expressions.")
    category: str = Field(default="phrase",
                          description="Category its verdicts carry (see `policy.rules`).")
    on: list[Literal["input", "output", "reasoning"]] = Field(
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


class JudgesSettings(_Section):
    phrase: PhraseJudgeSettings = Field(default_factory=PhraseJudgeSettings,
                                        description="The phrase/regex judge.")


class PolicyRule(_Section):
    action: Action = Field(description="allow, flag, redact or block.")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0,
                             description="A verdict scoring at least this takes the action.")


class PolicySettings(_Section):
    rules: dict[str, PolicyRule] = Field(
        default_factory=lambda: {"phrase": PolicyRule(action=Action.BLOCK)},
        description="Category -> rule. A category without a rule is only counted (allow).")
    blocked_message: str = Field(
        default="I can't help with that request.",
        description="What a client receives instead of blocked output.")
    stream_holdback_tokens: int = Field(
        default=32, ge=0,
        description="Streamed chunks (about one token each) held back until the judges have "
                    "passed them; the most text that can reach a client before a block.")


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
    judges: JudgesSettings = Field(default_factory=JudgesSettings, description="Judges.")
    policy: PolicySettings = Field(default_factory=PolicySettings, description="Actions.")

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


def load_settings(path: str | Path | None = None, **overrides: Any) -> GatewaySettings:
    """Settings from ``path`` (YAML, optional), the environment and ``overrides``."""
    if path is None:
        return GatewaySettings(**overrides)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    from_file = type("GatewaySettingsFromFile", (GatewaySettings,), {
        "model_config": {**GatewaySettings.model_config, "yaml_file": str(path)},
    })
    return from_file(**overrides)
