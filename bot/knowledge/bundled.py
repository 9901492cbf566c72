"""Where the knowledge shipped with the bot lives, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def bundled_knowledge_dir() -> Path:
    """The wheel carries ``knowledge/`` as ``bot/_knowledge``; a checkout has it at the root."""
    installed = _PACKAGE / "_knowledge"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "knowledge"
