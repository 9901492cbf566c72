"""Typed entries of the archive and their validation; knows nothing of storage or chat."""
