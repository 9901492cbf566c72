"""Bringing files into the store and writing it back out: import, export, their reports."""
