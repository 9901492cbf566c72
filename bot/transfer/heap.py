"""Giving the memory an import freed back to the system.

A 100,000-statement import builds and drops millions of small objects.
CPython and the C allocator keep what was freed for reuse, so a process
that imported once (the bot after a curator's upload, a run importing
file after file) kept ~180-220 MB where it needed far less, and the next
import's peak came on top of it. glibc's ``malloc_trim`` hands the free
pages back: measured in one process importing the 1M benchmark archive
shard by shard, the peak was 245-256 MB instead of 287-307 MB
(docs/performance.md). Elsewhere (musl, macOS) there is nothing to call,
and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def give_back() -> bool:
    """Collect what an import left in cycles, then return free heap pages to the system.

    Blocks for tens of milliseconds after a large import: call it off the
    event loop. True when the allocator could be asked."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
