"""Every knob of coach, read once from the environment and `.env`; nothing else reads them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _default_data_dir() -> Path:
    return Path.home() / ".cache" / "coach"


class Settings(BaseSettings):
    """coach's configuration; every external service is optional and has an offline twin."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        frozen=True,
    )

    # Deployment
    coach_env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # `text` for people, `json` (one object a line) for log aggregation
    log_format: Literal["text", "json"] = "text"
    # permessage-deflate on the WebSocket (`coach serve`). Off: PCM only shrinks to about 0.7,
    # while each connection's zlib state costs about 300 kB and inflating took ~30 % of the
    # loop's time at 500 sessions (docs/scaling.md)
    ws_compression: bool = False
    # set: GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`; unset: it is open
    metrics_token: SecretStr | None = None
    # set: unhandled errors go to Sentry (audio, transcripts and tokens scrubbed)
    sentry_dsn: SecretStr | None = None
    sentry_traces_sample_rate: float = Field(0.0, ge=0, le=1)
    # load the local speech models at start, /health/ready waiting for them; unset: in
    # production only (in development the first session loads them)
    preload_models: bool | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)

    # Database: unset means an in-process store whose data is gone at exit
    mongodb_uri: str | None = None
    # production without MONGODB_URI only on purpose: the embedded store under DATA_DIR is
    # one process's, on one disk
    allow_memory_store: bool = False
    # the master key sealing users' data keys ([kid:]base64 of 32 bytes); required in
    # production, generated once into DATA_DIR/keys in development. Old keys (comma-separated)
    # still open what they sealed, and each data key moves to the current key when used.
    data_encryption_key: SecretStr | None = None
    data_encryption_old_keys: SecretStr | None = None
    mongodb_database: str = "coach"

    # Accounts
    jwt_secret: SecretStr | None = None
    jwt_ttl_minutes: int = Field(60 * 24, ge=1)
    max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024)

    # Rate limits, in the `limits` notation ("10/minute"; several joined with ";"; empty: none).
    # Counted in memory, or in MongoDB (shared by every instance) when MONGODB_URI is set.
    rate_limits: bool = True
    rate_limit_login_failures_per_account_and_address: str = "5/minute"
    rate_limit_login_failures_per_address: str = "20/10 minutes"
    # over every address, but only for addresses that already failed on the account
    rate_limit_login_failures_per_account: str = "20/hour"
    rate_limit_register_per_address: str = "20/hour"
    rate_limit_password_per_address: str = "20/hour"
    rate_limit_password_per_account: str = "5/15 minutes"
    rate_limit_ws_ticket_per_address: str = "120/minute"
    rate_limit_ws_ticket_per_account: str = "30/minute"
    rate_limit_session_per_address: str = "60/minute"
    rate_limit_session_per_account: str = "10/minute"
    rate_limit_analyze_per_address: str = "60/minute"
    rate_limit_analyze_per_account: str = "20/minute"
    rate_limit_retry_per_address: str = "60/minute"
    rate_limit_retry_per_account: str = "10/minute"
    rate_limit_livekit_token_per_address: str = "60/minute"
    rate_limit_livekit_token_per_account: str = "20/minute"

    # Analysis jobs
    analysis_lease_seconds: float = Field(300.0, gt=0)
    max_concurrent_analyses: int = Field(2, ge=1)
    analysis_recovery_interval_seconds: float = Field(60.0, gt=0)

    # Speech-to-text
    deepgram_api_key: SecretStr | None = None
    deepgram_model: str = "nova-3"
    # The full-accuracy model: `coach analyze` and the final pass over a live session's recording
    whisper_model: str = "base"
    whisper_device: Literal["cpu", "cuda", "auto"] = "cpu"
    whisper_compute_type: str = "int8"
    whisper_language: str | None = "en"
    whisper_threads: int = Field(0, ge=0)
    # The live pass, tuned for speed: its own model (WHISPER_MODEL when unset), greedy
    # decoding, a short endpoint gap, and worker threads sized to the cores (0: automatic)
    whisper_live_model: str | None = None
    live_beam_size: int = Field(1, ge=1, le=10)
    live_endpoint_gap_seconds: float = Field(0.3, ge=0.1, le=2.0)
    # Seconds of audio the live pass's encoder sees at least, instead of Whisper's padded 30 s
    # (30 turns the cut off)
    live_audio_context_seconds: float = Field(10.0, ge=1.0, le=30.0)
    live_whisper_workers: int = Field(0, ge=0, le=16)
    # When a live session completes, its recording is transcribed again at full accuracy and
    # that is what gets stored: `auto` for the local recognizer only, `always` (Deepgram too)
    # or `never`
    final_pass: Literal["auto", "always", "never"] = "auto"

    # Coaching analysis
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4.1-mini"
    openai_timeout_seconds: float = Field(60.0, gt=0)

    # LiveKit
    livekit_url: str | None = None
    livekit_api_key: str | None = None
    livekit_api_secret: SecretStr | None = None
    livekit_token_ttl_minutes: float = Field(10.0, gt=0, le=24 * 60)
    # coach registers as a LiveKit agent server; candidate tokens dispatch this agent name
    livekit_agent_name: str = Field("coach", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    livekit_agent_server: bool = True
    livekit_agent_port: int = Field(0, ge=0, le=65535)  # its health server; 0 picks a free one
    livekit_load_threshold: float = Field(0.75, gt=0, lt=1)
    # the load LiveKit balances on counts this machine's CPU; turn off where the CPU is meant
    # to run busy (local Whisper) and only live sessions against MAX_SESSIONS should count
    livekit_load_cpu: bool = True
    # Egress recordings of LiveKit interviews: set a file path template to turn them on.
    # Without S3 settings the file stays where the egress service writes it.
    livekit_egress_filepath: str | None = None
    livekit_egress_s3_bucket: str | None = None
    livekit_egress_s3_region: str | None = None
    livekit_egress_s3_endpoint: str | None = None
    livekit_egress_s3_access_key: str | None = None
    livekit_egress_s3_secret: SecretStr | None = None

    # Live sessions
    session_grace_seconds: float = Field(60.0, ge=0)
    max_sessions: int = Field(200, ge=1)
    max_sessions_per_user: int = Field(2, ge=1)
    max_sessions_per_address: int = Field(20, ge=1)
    # sessions waiting out their grace after the client vanished, per user and per address;
    # beyond these the oldest is stored at once
    max_abandoned_sessions_per_user: int = Field(1, ge=1)
    max_abandoned_sessions_per_address: int = Field(4, ge=1)
    max_session_minutes: float = Field(90.0, gt=0)
    max_audio_frame_bytes: int = Field(64_000, ge=320)
    metrics_interval_seconds: float = Field(3.0, gt=0)
    # Stream-mode audio is kept (Opus in OGG) so the results page can play it back
    record_audio: bool = True
    recordings_dir: Path | None = None
    recording_retention_days: float = Field(30.0, gt=0)

    # Speech metrics
    pause_threshold_seconds: float = Field(1.2, gt=0)
    pace_segment_seconds: float = Field(30.0, gt=0)

    @field_validator("*", mode="after")
    @classmethod
    def _rates_parse(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name and info.field_name.startswith("rate_limit_") and str(value).strip():
            from limits import parse_many

            try:
                parse_many(str(value))
            except ValueError as e:
                why = f"{value!r} is not a rate like '10/minute' or '5/minute;50/day'"
                raise ValueError(why) from e
        return value

    @model_validator(mode="after")
    def _production_needs_secret(self) -> Settings:
        if self.coach_env == "production" and self.jwt_secret is None:
            raise ValueError("JWT_SECRET is required when COACH_ENV=production")
        if self.coach_env == "production" and self.data_encryption_key is None:
            raise ValueError(
                "DATA_ENCRYPTION_KEY is required when COACH_ENV=production (32 random bytes, "
                "base64: python -c 'import coach.encryption as e; print(e.new_key_text())')"
            )
        from coach.encryption import parse_key

        keys = (
            [("DATA_ENCRYPTION_KEY", self.data_encryption_key.get_secret_value())]
            if (self.data_encryption_key is not None)
            else []
        )
        old = self.data_encryption_old_keys
        keys += [("DATA_ENCRYPTION_OLD_KEYS", part)
                 for part in (old.get_secret_value().split(",") if old is not None else [])
                 if part.strip()]  # fmt: skip
        for name, text in keys:
            try:
                parse_key(text)
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from e
        if self.coach_env == "production" and not self.mongodb_uri and not self.allow_memory_store:
            raise ValueError(
                "MONGODB_URI is required when COACH_ENV=production (set ALLOW_MEMORY_STORE=true "
                "to run on the embedded store under DATA_DIR on purpose)"
            )
        livekit = (self.livekit_url, self.livekit_api_key, self.livekit_api_secret)
        if any(v is not None for v in livekit) and not all(v is not None for v in livekit):
            raise ValueError(
                "LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set together"
            )
        return self

    @property
    def room_hold(self) -> dt.timedelta:
        """How long a LiveKit room stays its user's after their last claim: one interview."""
        return dt.timedelta(minutes=self.max_session_minutes + 10)

    @property
    def preloads_models(self) -> bool:
        """Whether the speech models load at start (PRELOAD_MODELS, else in production)."""
        if self.preload_models is None:
            return self.coach_env == "production"
        return self.preload_models

    @property
    def model_cache_dir(self) -> Path:
        """Where assembled speech models live."""
        return self.data_dir / "models"

    @property
    def recordings_path(self) -> Path:
        """Where stream-mode recordings and not-yet-stored sessions are kept."""
        return self.recordings_dir or self.data_dir / "recordings"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation error into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        first = e.errors()[0]
        loc = "_".join(str(p) for p in first["loc"]).upper()
        where = f"{loc}: " if loc else ""
        raise SettingsError(f"invalid setting {where}{first['msg']}") from e
