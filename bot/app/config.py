"""Settings from the environment and ``.env``; secrets never print.

Every setting is listed, with a comment, in ``.env.example``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.roles import parse_owners


def default_database_url() -> str:
    return "sqlite:///" + str(Path(user_data_dir("verbatim", appauthor=False)) / "verbatim.sqlite3")


_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _tg(name: str) -> AliasChoices:
    """Telegram settings keep the names operators know (TELEGRAM_BOT_TOKEN), prefixed or not."""
    return AliasChoices(f"TELEGRAM_{name}", f"VERBATIM_TELEGRAM_{name}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_prefix="VERBATIM_"
    )

    database_url: str = Field(default_factory=default_database_url)
    knowledge_dir: Path | None = None
    load_bundled: bool = True
    page_size: int = Field(3, ge=1, le=10)
    owners: str = "console:local"
    sqlite_inline_budget_ms: float = Field(2.0, ge=0, le=50)
    sqlite_busy_timeout_ms: float = Field(5000, ge=0, le=600_000)
    # The derived full-text index (tantivy) beside the store: "auto" uses it from
    # search_index_min_statements up, where SQLite FTS5 gets slow (docs/performance.md).
    search_index: Literal["auto", "on", "off"] = "auto"
    search_index_dir: Path | None = None
    search_index_min_statements: int = Field(100_000, ge=0)
    log_level: str = "WARNING"

    # Telegram: the adapter starts when a token is set. Read as TELEGRAM_* (or VERBATIM_TELEGRAM_*).
    telegram_bot_token: SecretStr | None = Field(None, validation_alias=_tg("BOT_TOKEN"))
    telegram_webhook_url: str | None = Field(None, validation_alias=_tg("WEBHOOK_URL"))
    telegram_webhook_listen: str = Field("127.0.0.1", validation_alias=_tg("WEBHOOK_LISTEN"))
    telegram_webhook_port: int = Field(8443, ge=1, le=65535, validation_alias=_tg("WEBHOOK_PORT"))
    telegram_webhook_secret: SecretStr | None = Field(None, validation_alias=_tg("WEBHOOK_SECRET"))
    telegram_api_base_url: str | None = Field(None, validation_alias=_tg("API_BASE_URL"))

    @field_validator("telegram_bot_token", "telegram_webhook_secret", "telegram_webhook_url",
                     "telegram_api_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``TELEGRAM_BOT_TOKEN=`` in a copied .env.example means "not configured", not ""."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET takes 1-256 characters: A-Z a-z 0-9 _ -")
        return value

    @field_validator("telegram_webhook_url", "telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme != "sqlite":
            raise ValueError(
                f"VERBATIM_DATABASE_URL must start with sqlite:/// (got {scheme or 'no'} scheme)"
            )
        return value

    @field_validator("owners")
    @classmethod
    def _owners_parse(cls, value: str) -> str:
        parse_owners(value)
        return value

    @property
    def owner_keys(self) -> frozenset[str]:
        return parse_owners(self.owners)

    @property
    def sqlite_path(self) -> str:
        """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``sqlite:///:memory:``."""
        path = unquote(self.database_url[len("sqlite:///") :])
        if not path:
            raise ValueError("VERBATIM_DATABASE_URL names no file: write sqlite:///path/to/file")
        return path

    @property
    def index_path(self) -> Path | None:
        """Where the derived search index lives: beside the database file unless set;
        None (in memory) for an in-memory database."""
        if self.search_index_dir is not None:
            return self.search_index_dir
        path = self.sqlite_path
        return None if path == ":memory:" else Path(path + ".index")
