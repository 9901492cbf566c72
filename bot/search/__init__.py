"""From what a reader typed to ranked entries: query parsing, speaker names, the searcher."""
