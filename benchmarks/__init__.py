"""Reproducible performance benchmark of Verbatim: ``python -m benchmarks --scale 100k``.

A deterministic synthetic archive is generated, imported through the real
importer into a real SQLite file, and queried through the real core, with
bare SQLite FTS5 (the floor) and tantivy (the fastest embedded peer) run on
the same searches in the same run. See docs/performance.md for the figures.
"""

SCALES = {"2k": 2_000, "10k": 10_000, "100k": 100_000, "1M": 1_000_000}


def parse_scale(text: str) -> int:
    """``10k`` / ``1M`` / ``2500`` -> a statement count (k and M, any case)."""
    value = text.strip()
    if value in SCALES:
        return SCALES[value]
    lowered = value.lower()
    factor = 1
    if lowered.endswith("k"):
        factor, lowered = 1_000, lowered[:-1]
    elif lowered.endswith("m"):
        factor, lowered = 1_000_000, lowered[:-1]
    try:
        number = int(float(lowered) * factor)
    except ValueError:
        raise ValueError(f"scale {text!r}: write a number of statements, such as 10k, "
                         "100k or 1M") from None
    if number < 100:
        raise ValueError(f"scale {text!r}: at least 100 statements")
    return number
