"""Allows ``python -m bot`` where the ``verbatim`` script is not on PATH."""

from bot.app.cli import main

raise SystemExit(main())
