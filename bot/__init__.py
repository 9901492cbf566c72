"""Verbatim: answers in chats with what people actually said, dated and sourced."""

__version__ = "0.1.0"
