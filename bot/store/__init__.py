"""Persistence behind one async interface; SQLite is the embedded default."""
