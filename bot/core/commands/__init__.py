"""Command handlers, grouped by who uses them."""
