"""Configuration, wiring, start and stop, and the ``verbatim`` command line."""
