"""Every knob, read once from the environment (and `.env`) into one Settings object.

A missing or malformed value fails at start with one line naming the variable and what it expects
(`ConfigError`), never a pydantic traceback. Secrets are `SecretStr`, so they never show in reprs or logs.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from silentpartner.store.urls import normalise_database_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./silentpartner.db"


REALTIME_MODELS = ("gpt-realtime-2.1", "gpt-realtime-2.1-mini", "gpt-realtime-2", "gpt-realtime-1.5")
PRICE_KEYS = ("text_in", "text_in_cached", "text_out", "audio_in", "audio_in_cached", "audio_out")
DEFAULT_REALTIME_PRICES: dict[str, dict[str, float]] = {
    "gpt-realtime-2.1": dict(zip(PRICE_KEYS, (4.0, 0.40, 24.0, 32.0, 0.40, 64.0), strict=True)),
    "gpt-realtime-2": dict(zip(PRICE_KEYS, (4.0, 0.40, 24.0, 32.0, 0.40, 64.0), strict=True)),
    "gpt-realtime-2.1-mini": dict(zip(PRICE_KEYS, (0.60, 0.06, 2.40, 10.0, 0.30, 20.0), strict=True)),
    "gpt-realtime-1.5": dict(zip(PRICE_KEYS, (4.0, 0.40, 16.0, 32.0, 0.40, 64.0), strict=True)),
}


class ConfigError(Exception):
    """A setting the operator must fix; the message is one actionable line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Where Twilio reaches us (https). Used to build the wss stream URL and to check signatures.
    public_url: str = Field(default="http://127.0.0.1:8000", description="https base Twilio reaches us at")
    database_url: str = DEFAULT_DATABASE_URL
    businesses_file: Path | None = None

    calcom_api_key: SecretStr | None = None
    calcom_api_url: str = "https://api.cal.com"
    calcom_webhook_secret: SecretStr | None = None
    calcom_allow_unsigned_webhooks: bool = False

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: str | None = None
    # Accept Twilio webhooks without a signature when no TWILIO_AUTH_TOKEN is set. Local tools and tests
    # only: allowed with a loopback PUBLIC_URL, refused at start otherwise.
    twilio_allow_unsigned: bool = False

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    # The Realtime speech engine (voice/realtime/): the websocket base URL the SDK appends `/realtime?model=`
    # to, the model, how long a session may live before the call moves to a fresh one (OpenAI ends a
    # session at 60 minutes, without warning), and how long a session opened at the ring waits for its stream.
    openai_realtime_url: str = "wss://api.openai.com/v1"
    openai_realtime_model: str = "gpt-realtime-2.1-mini"
    realtime_rotate_after_seconds: float = Field(default=55 * 60, gt=0, le=59 * 60)
    realtime_prewarm: bool = True
    realtime_prewarm_seconds: float = Field(default=20.0, gt=0, le=120)
    # USD per million tokens, by model: text_in, text_in_cached, text_out, audio_in, audio_in_cached,
    # audio_out (OpenAI's published prices, November 2026). REALTIME_PRICES (JSON) replaces the table.
    realtime_prices: dict[str, dict[str, float]] = Field(default_factory=lambda: dict(DEFAULT_REALTIME_PRICES))
    openai_chat_model: str = "gpt-5-mini"
    # The offline engine's shared worker pool (one per core by default: with `serve --workers N`, give each
    # process its share) and Whisper's encoder window: "full" decodes exactly as faster-whisper does, "fit"
    # (fitted to the turn) about four times faster, with a different decode (see voice/speech/stt.py).
    speech_workers: int | None = Field(default=None, ge=1, le=64)
    speech_stt_window: Literal["full", "fit"] = "full"
    call_brain: Literal["rules", "chat"] = "rules"  # who answers phone calls; text threads use chat when keyed

    dashboard_token: SecretStr | None = None
    # GET /metrics: with a token, only `Authorization: Bearer <token>`; without one, only from this machine.
    metrics_token: SecretStr | None = None
    # Call recordings (for businesses with record_calls): kept under this folder (the local store), written
    # there as raw tracks while the call goes on, then compressed to one file per call.
    recordings_dir: Path = Path("recordings")
    recording_format: Literal["flac", "ogg"] = "flac"
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    run_jobs: bool = True

    # A live call writes a heartbeat this often; one whose heartbeat is older than `call_stale_after_seconds`
    # lost its process (a crash, a kill -9) and is closed out by the sweep, which looks every
    # `call_sweep_every_seconds` (and once at start).
    call_heartbeat_seconds: float = Field(default=5.0, gt=0)
    call_stale_after_seconds: float = Field(default=30.0, gt=0)
    call_sweep_every_seconds: float = Field(default=15.0, gt=0)

    # Quick start: one business from the environment alone (used when BUSINESS_NAME is set and no file).
    business_name: str | None = None
    business_slug: str | None = None
    business_timezone: str | None = None
    business_number: str | None = None
    owner_mobile: str | None = None
    calcom_event_type_id: int | None = None
    calcom_event_type_ids: str | None = None  # "service-call=123,estimate=456"

    @field_validator("public_url", "calcom_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected an http(s) URL such as https://example.com")
        return value.rstrip("/")

    @field_validator("twilio_api_url", "openai_base_url")
    @classmethod
    def _optional_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected an http(s) URL such as http://127.0.0.1:9000")
        return value.rstrip("/")

    @field_validator("openai_realtime_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            raise ValueError("expected a websocket URL such as wss://api.openai.com/v1")
        return value.rstrip("/")

    @field_validator("realtime_prices")
    @classmethod
    def _prices(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for model, row in value.items():
            missing = [key for key in PRICE_KEYS if key not in row]
            if missing or any(price < 0 for price in row.values()):
                raise ValueError(f"{model}: expected USD per million tokens for {', '.join(PRICE_KEYS)}, none negative")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("expected a random secret of at least 16 characters (openssl rand -hex 24)")
        return value

    @field_validator("call_stale_after_seconds")
    @classmethod
    def _stale_after(cls, value: float, info: ValidationInfo) -> float:
        beat = info.data.get("call_heartbeat_seconds")
        if beat is not None and value < 2 * beat:
            raise ValueError(f"expected at least twice CALL_HEARTBEAT_SECONDS ({beat:g}), or live calls get swept")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR")
        return value

    @model_validator(mode="after")
    def _unsigned_twilio_only_on_loopback(self) -> Settings:
        if self.twilio_allow_unsigned and not self.public_url_is_loopback:
            raise ValueError(
                f"TWILIO_ALLOW_UNSIGNED: only allowed when PUBLIC_URL is this machine (http://127.0.0.1:8000), "
                f"not {self.public_url}; set TWILIO_AUTH_TOKEN instead"
            )
        return self

    @property
    def public_url_is_loopback(self) -> bool:
        """PUBLIC_URL names this machine (127.0.0.0/8, ::1, localhost): nothing outside can reach it."""
        host = urlsplit(self.public_url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def twilio_signing(self) -> Literal["checked", "unsigned-allowed", "refused"]:
        """How Twilio webhooks are checked: against TWILIO_AUTH_TOKEN; accepted unsigned (loopback, by
        choice); or, with neither, refused, so an unconfigured instance can never be driven by forgeries."""
        if self.twilio_auth_token is not None and self.twilio_auth_token.get_secret_value():
            return "checked"
        return "unsigned-allowed" if self.twilio_allow_unsigned else "refused"

    @property
    def public_host(self) -> str:
        return urlsplit(self.public_url).netloc

    @property
    def public_ws_base(self) -> str:
        parts = urlsplit(self.public_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{parts.path}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else value


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation failures into one `ConfigError` line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across variables: its message names them
            raise ConfigError(message) from None
        raise ConfigError(f"{str(first['loc'][0]).upper()}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
