"""The one Settings object: reads the environment and `.env`, fails with one clear line."""

from __future__ import annotations

import re
from datetime import datetime, time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_QUIET_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_CRON_FIELDS = 5


class SettingsError(Exception):
    """A setting has a wrong value; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Every setting of classpulse. See `.env.example` for the documented list."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = "sqlite:///data/classpulse.db"
    timezone: str = "Europe/Kyiv"
    bot_language: Literal["uk", "en"] = "uk"
    school_name: str = "Гімназія"
    min_group_size: int = Field(default=5, ge=1, le=1000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    data_dir: Path = Path("data")

    # Secrets: SecretStr, so a repr, a traceback or a validation error never shows them.
    telegram_bot_token: SecretStr = SecretStr("")
    telegram_api_base_url: str = "https://api.telegram.org"
    # The first wait before getMe is tried again at start (then doubled, up to a minute).
    telegram_start_retry_seconds: float = Field(default=1.0, ge=0.05, le=60)
    telegram_bot_username: str = ""
    telegram_webhook_url: str = ""
    telegram_webhook_secret: SecretStr = SecretStr("")

    viber_auth_token: SecretStr = SecretStr("")
    viber_bot_name: str = "classpulse"
    viber_bot_avatar: str = ""
    viber_bot_uri: str = ""
    viber_webhook_url: str = ""
    viber_api_base_url: str = "https://chatapi.viber.com/pa/"
    # Viber's commercial model: each chatbot-initiated message (outside the 24-hour session a
    # subscriber opens by writing) costs this much; the published rate for Ukraine.
    viber_price_per_message: float = Field(default=0.0196, ge=0, le=10)
    viber_currency: str = Field(default="EUR", min_length=1, max_length=8)
    # Chatbot-initiated messages a month; a broadcast that would pass it is stopped. 0: no limit.
    viber_monthly_limit: int = Field(default=0, ge=0, le=100_000_000)

    # Files the bot serves by link (Viber receives pictures and files only by URL).
    # The public https:// origin of the bot's web server; default: that of VIBER_WEBHOOK_URL.
    files_base_url: str = ""
    file_link_days: int = Field(default=30, ge=1, le=365)

    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # A request's headers must arrive within this many seconds (slowloris); tests shorten it.
    webhook_header_seconds: float = Field(default=10.0, ge=0.5, le=300)

    quiet_hours: str = "21:00-08:00"
    digest_cron: str = "0 8 * * mon"
    survey_reminder_after_days: int = Field(default=2, ge=1, le=60)
    survey_reminder_max: int = Field(default=2, ge=0, le=10)
    criteria_reminder_after_days: int = Field(default=3, ge=1, le=60)
    criteria_reminder_max: int = Field(default=2, ge=0, le=10)
    criteria_show_names: bool = False
    criteria_subjects: str = (
        "Українська мова,Українська література,Математика,Алгебра,Геометрія,Англійська мова,"
        "Історія України,Всесвітня історія,Біологія,Географія,Фізика,Хімія,Інформатика,"
        "Мистецтво,Фізична культура"
    )
    criteria_max_file_mb: int = Field(default=10, ge=1, le=50)

    # Reports (charts, XLSX, DOCX) are made in a child process: the bot stays light after one.
    reports_in_child_process: bool = True
    # Fractions of a second too: the tests wait out a hung child's timeout.
    reports_child_timeout: float = Field(default=300, ge=0.1, le=3600)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("an IANA time zone such as Europe/Kyiv") from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        if value and not _QUIET_RE.match(value.strip()):
            raise ValueError("HH:MM-HH:MM, e.g. 21:00-08:00, or empty for none")
        return value.strip()

    @field_validator("digest_cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        if len(value.split()) != _CRON_FIELDS:
            raise ValueError("a five-field cron expression, e.g. '0 8 * * mon'")
        return value

    @field_validator(
        "telegram_api_base_url",
        "viber_api_base_url",
        "telegram_webhook_url",
        "viber_webhook_url",
        "files_base_url",
    )
    @classmethod
    def _check_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return value

    @field_validator("telegram_webhook_url", "viber_webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str) -> str:
        # Telegram and Viber both refuse to call a webhook that is not HTTPS: `run` and
        # `viber set-webhook` apply the same rule (webhook_url_problem).
        if value and webhook_url_problem(value):
            raise ValueError("a public https:// URL (both messengers call webhooks over HTTPS)")
        return value

    # Derived values: computed, never stored twice.
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        if not self.quiet_hours:
            return None
        start, end = self.quiet_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)

    def in_quiet_hours(self, now: datetime) -> bool:
        """Whether `now` falls in QUIET_HOURS (school time); the window may span midnight."""
        window = self.quiet_window
        if window is None:
            return False
        start, end = window
        local = now.astimezone(self.tz).time()
        if start <= end:
            return start <= local < end
        return local >= start or local < end

    @property
    def subjects(self) -> list[str]:
        return [s.strip() for s in self.criteria_subjects.split(",") if s.strip()]

    def message_price(self, channel: str) -> float:
        """What one paid (chatbot-initiated) message costs on a billed channel."""
        return self.viber_price_per_message if channel == "viber" else 0.0

    def monthly_message_limit(self, channel: str) -> int:
        """Paid messages a month on a billed channel; 0: no limit."""
        return self.viber_monthly_limit if channel == "viber" else 0

    @property
    def public_files_url(self) -> str:
        """Where served files are reachable from outside (no trailing slash), or ""."""
        if self.files_base_url:
            return self.files_base_url.rstrip("/")
        if self.viber_webhook_url:
            parts = urlsplit(self.viber_webhook_url)
            return f"{parts.scheme}://{parts.netloc}"
        return ""

    @property
    def telegram_enabled(self) -> bool:
        return bool(reveal(self.telegram_bot_token))

    @property
    def viber_enabled(self) -> bool:
        return bool(reveal(self.viber_auth_token))


def load_settings(**overrides: object) -> Settings:
    """Build Settings; on a wrong value raise SettingsError with one line per the contract."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        reason = str(first["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
        if first["type"] == "literal_error":  # every valid value: 'DEBUG', 'INFO', ... or '...'
            reason = f"one of {first.get('ctx', {}).get('expected', reason)}"
        elif first["type"] != "value_error":
            reason = reason.split(",")[0]
        given = "" if _is_secret(name) else f", got {str(first.get('input'))[:60]!r}"
        raise SettingsError(f"Invalid setting {name}: expected {reason}{given}") from None


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot be a messenger's webhook, or None: Telegram and Viber need HTTPS."""
    if not url.startswith("https://") or len(url) <= len("https://"):
        return f"a webhook URL must be https:// (Telegram and Viber call only HTTPS), got {url!r}"
    return None


def _is_secret(name: str) -> bool:
    return any(word in name for word in ("TOKEN", "SECRET", "PASSWORD", "DATABASE_URL"))


def reveal(value: SecretStr | str) -> str:
    """A secret's value, where it is handed to the library that needs it (and nowhere else)."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value
