"""Settings from the environment and ``.env``; secrets never print.

Every setting is listed, with a comment, in ``.env.example``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.roles import parse_owners


def default_database_url() -> str:
    return "sqlite:///" + str(Path(user_data_dir("verbatim", appauthor=False)) / "verbatim.sqlite3")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_prefix="VERBATIM_"
    )

    database_url: str = Field(default_factory=default_database_url)
    knowledge_dir: Path | None = None
    load_bundled: bool = True
    page_size: int = Field(3, ge=1, le=10)
    owners: str = "console:local"
    log_level: str = "WARNING"

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
