"""A deterministic synthetic archive in the JSON Lines import format.

Why synthetic: the real datasets in ``data/`` hold a few thousand
statements, and performance questions start at a hundred thousand. The
archive imitates what makes search hard on real text rather than its
meaning: word frequencies follow a Zipf-like law (a few words in almost
every statement, a long tail of rare ones), statements per speaker are
skewed the same way (a foreign minister says far more than a backbencher),
speakers carry aliases in Latin and Cyrillic, a tenth of the statements are
in Cyrillic with an English translation, dates span decades at day, month
and year precision, and statements link to each other and to events.

Everything comes from one ``random.Random(seed)``: the same scale and seed
give byte-identical files, so two runs measure the same work.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SHARD = 100_000  # statements per JSONL file: bounds one import's memory, under the size cap
FREQUENT_RANK, MID_RANK, RARE_RANK = 60, 400, 3_000

def _words(text: str) -> list[str]:
    """Word lists written as prose, one string: easier to read and extend."""
    return text.split()


_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_COMMON = _words(
    "the of and to in a that is we for on it with are this as be not our have will "
    "has by at from they all but their which its an was were there been more would "
    "can these must people other also who new one world international security "
    "government president council peace support country countries nations region"
)
_TOPICS = _words(
    "aleppo syria ceasefire evacuation civilians military sanctions energy gas oil "
    "elections nato ukraine crimea trade tariffs climate migration refugees nuclear "
    "iran iraq libya yemen gaza israel palestine terrorism cyber vaccines pandemic "
    "economy inflation budget borders treaty arms sovereignty human-rights press "
    "corruption courts reform pensions taxes education health water food grain"
)
_FIRST = _words(
    "Sergey Anna John Maria Ahmed Olga Pierre Li Fatima Carlos Ivan Elena Mohammed "
    "Sofia James Dmitry Yulia Hassan Ingrid Kenji Amara Viktor Natalia Omar Helga "
    "Pavel Irina Rafael Leila Mikhail Svetlana Thomas Aisha Nikolai Tatiana"
)
_SURNAME_ENDINGS = ("ov", "ova", "enko", "ski", "son", "ez", "elli", "ani", "berg", "ić")
_PLACES = tuple(
    place.replace("_", " ")
    for place in _words(
        "Moscow Washington Geneva New_York Hamburg Damascus Kyiv Ankara Tehran Beijing "
        "Brussels Paris London Berlin Vienna Doha Cairo Riyadh Minsk Astana Sochi Munich"
    )
)
_OCCASIONS = ("press conference", "interview", "UN General Assembly", "joint statement",
              "television address", "briefing", "parliament session", "summit")
_PUBLISHERS = ("TASS", "Reuters", "AP", "AFP", "BBC", "RIA", "Interfax", "UN", "MFA",
               "Kremlin", "White House", "The Guardian", "Le Monde", "Al Jazeera")
_CYRILLIC = {
    "a": "а", "b": "б", "c": "к", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х",
    "i": "и", "j": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п",
    "q": "к", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс",
    "y": "ы", "z": "з", "ć": "ч",
}


def to_cyrillic(text: str) -> str:
    """A crude letter-by-letter Cyrillic spelling: enough to exercise cross-script matching."""
    out = []
    for char in text:
        lower = char.lower()
        mapped = _CYRILLIC.get(lower, char)
        out.append(mapped.upper() if char != lower else mapped)
    return "".join(out)


def _pseudo_words(count: int, rng: random.Random, syllables: int) -> list[str]:
    """Distinct pronounceable non-words, so no synthetic word collides with a real name."""
    pool = [c + v for c in _CONSONANTS for v in _VOWELS]
    seen: set[str] = set()
    words: list[str] = []
    for length in itertools.count(syllables):
        combos = list(itertools.product(pool, repeat=length))
        rng.shuffle(combos)
        for combo in combos:
            word = "".join(combo)
            if word not in seen:
                seen.add(word)
                words.append(word)
                if len(words) == count:
                    return words
    raise AssertionError("unreachable")


def _zipf_cum(count: int, exponent: float) -> list[float]:
    """Cumulative Zipf weights for ``random.choices(cum_weights=...)`` (bisect, no rebuild)."""
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, count + 1)))


@dataclass(frozen=True)
class Manifest:
    """What the generator made, and the fixed query set chosen from it."""

    statements: int
    speakers: int
    sources: int
    events: int
    links: int
    files: list[str]
    statement_files: list[str]
    bytes: int
    queries: dict[str, str]
    floor: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _date(rng: random.Random) -> tuple[str, str]:
    """A said_on string at day, month or year precision, weighted towards recent years."""
    year = 1990 + int(35 * (rng.random() ** 0.7))
    roll = rng.random()
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    if roll < 0.8:
        return f"{year:04d}-{month:02d}-{day:02d}", f"{year:04d}-{month:02d}-{day:02d}"
    if roll < 0.95:
        return f"{year:04d}-{month:02d}", f"{year:04d}-{month:02d}"
    return f"{year:04d}", f"{year:04d}"


def generate(n: int, out: Path, *, seed: int = 20161208) -> Manifest:
    """Write the archive for ``n`` statements under ``out`` and return its manifest."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.jsonl"):
        old.unlink()

    vocab = _COMMON + [w for w in _pseudo_words(40_000, rng, 2) if len(w) >= 4]
    vocab = vocab[: min(len(vocab), 5_000 + n // 10)]
    word_cum = _zipf_cum(len(vocab), 1.05)
    topic_cum = _zipf_cum(len(_TOPICS), 1.0)

    n_speakers = min(5_000, max(100, n // 50))
    n_sources = max(50, n // 10)
    n_events = max(20, n // 100)

    # -- speakers: Zipf-skewed output, aliases in Latin and Cyrillic ----------
    surnames_base = _pseudo_words(n_speakers, random.Random(seed + 1), 2)
    speakers: list[dict[str, Any]] = []
    for index, base in enumerate(surnames_base):
        surname = (base + _SURNAME_ENDINGS[index % len(_SURNAME_ENDINGS)]).capitalize()
        first = _FIRST[index % len(_FIRST)]
        name = f"{first} {surname}"
        slug = f"{first}-{surname}".lower().replace("ć", "c")
        speakers.append({
            "type": "speaker",
            "id": slug,
            "name": name,
            "aliases": [f"{first[0]}. {surname}", to_cyrillic(name), to_cyrillic(surname)],
            "description": f"Speaker {index + 1} of the synthetic archive",
        })
    speaker_cum = _zipf_cum(n_speakers, 1.0)

    sources = []
    for index in range(n_sources):
        year = 1990 + index % 35
        sources.append({
            "type": "source",
            "id": f"src-{index:07d}",
            "title": " ".join(rng.choices(vocab[40:], k=rng.randint(3, 7))).capitalize(),
            "publisher": rng.choice(_PUBLISHERS),
            "published": f"{year:04d}-{1 + index % 12:02d}-{1 + index % 28:02d}",
            "url": f"https://example.org/{year}/{index}" if rng.random() < 0.9 else "",
            "kind": "primary" if rng.random() < 0.3 else "secondary",
            "language": "en",
        })

    events = []
    for index in range(n_events):
        said, _ = _date(rng)
        events.append({
            "type": "event",
            "id": f"ev-{index:06d}",
            "title": " ".join(rng.choices(vocab, cum_weights=word_cum, k=rng.randint(3, 6))
                              ).capitalize(),
            "happened_on": said,
            "place": rng.choice(_PLACES),
            "summary": " ".join(rng.choices(vocab, cum_weights=word_cum, k=rng.randint(15, 30))),
            "sources": [f"src-{rng.randrange(n_sources):07d}"],
            "topics": sorted(set(rng.choices(_TOPICS, cum_weights=topic_cum, k=2))),
        })

    files: list[Path] = []
    total_bytes = 0

    def write(name: str, rows: list[dict[str, Any]]) -> None:
        nonlocal total_bytes
        path = out / name
        text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
                       for r in rows)
        path.write_text(text, encoding="utf-8")
        total_bytes += path.stat().st_size
        files.append(path)

    write("speakers.jsonl", speakers)
    write("sources.jsonl", sources)
    write("events.jsonl", events)

    # -- statements ------------------------------------------------------------
    # Word ranks seen where each query will look, so that every query finds
    # something at every scale (at 1M these are exactly the target ranks).
    busy_id, quiet_id = speakers[2]["id"], speakers[min(len(speakers) - 1, 40)]["id"]
    seen_busy: set[int] = set()
    seen_quiet: set[int] = set()
    seen_with_frequent: set[int] = set()
    seen_in_dates: set[int] = set()
    seen_any: set[int] = set()
    vocab_ranks = range(len(vocab))
    last_by_speaker: dict[str, str] = {}
    show_id = ""
    links = 0
    statement_files: list[str] = []
    shard: list[dict[str, Any]] = []
    speaker_picks = rng.choices(range(n_speakers), cum_weights=speaker_cum, k=n)
    for index in range(n):
        speaker = speakers[speaker_picks[index]]
        said_on, date_slug = _date(rng)
        ranks = rng.choices(vocab_ranks, cum_weights=word_cum, k=rng.randint(10, 60))
        english = " ".join([vocab[r] for r in ranks]).capitalize() + "."
        rank_set = set(ranks)
        seen_any |= rank_set
        if FREQUENT_RANK in rank_set:
            seen_with_frequent |= rank_set
        if speaker["id"] == busy_id:
            seen_busy |= rank_set
        elif speaker["id"] == quiet_id:
            seen_quiet |= rank_set
        if "2005" <= said_on[:4] <= "2009" or "2010-01" <= said_on[:7] <= "2010-06":
            seen_in_dates |= rank_set
        row: dict[str, Any] = {
            "type": "statement",
            "id": f"{speaker['id']}-{date_slug}-{index}",
            "speaker": speaker["id"],
            "said_on": said_on,
            "place": rng.choice(_PLACES),
            "occasion": rng.choice(_OCCASIONS),
            "sources": sorted({f"src-{rng.randrange(n_sources):07d}"
                               for _ in range(rng.randint(1, 2))}),
            "topics": sorted(set(rng.choices(_TOPICS, cum_weights=topic_cum,
                                             k=rng.randint(1, 3)))),
        }
        if rng.random() < 0.1:
            row["text"] = to_cyrillic(english)
            row["language"] = "ru"
            row["translation"] = {"text": english, "language": "en", "by": "synthetic"}
        else:
            row["text"] = english
            row["language"] = "en"
        row_links = []
        previous = last_by_speaker.get(speaker["id"])
        if previous is not None and rng.random() < 0.05:
            row_links.append({"type": "clarifies", "to": previous})
        if rng.random() < 0.08:
            row_links.append({"type": "about", "to": f"ev-{rng.randrange(n_events):06d}"})
        if row_links:
            row["links"] = row_links
            links += len(row_links)
            if not show_id and len(row_links) == 2:
                show_id = row["id"]
        last_by_speaker[speaker["id"]] = row["id"]
        shard.append(row)
        if len(shard) == SHARD or index == n - 1:
            name = f"statements-{len(statement_files):03d}.jsonl"
            write(name, shard)
            statement_files.append(str(out / name))
            shard = []

    def near(seen: set[int], target: int) -> str:
        """The word of the seen rank nearest ``target`` (the target itself when seen)."""
        return vocab[min(seen or seen_any, key=lambda r: (abs(r - target), r))]

    words = {
        "busy_mid": near(seen_busy, MID_RANK),
        "quiet_frequent": near(seen_quiet, FREQUENT_RANK),
        "frequent": near(seen_any, FREQUENT_RANK),
        "with_frequent_mid": near(seen_with_frequent - {FREQUENT_RANK}, MID_RANK),
        "rare": near(seen_any, RARE_RANK),
        "dates_frequent": near(seen_in_dates, FREQUENT_RANK),
    }
    queries, floor = _query_set(speakers, words, show_id or f"{speakers[0]['id']}-x")
    return Manifest(
        statements=n, speakers=n_speakers, sources=n_sources, events=n_events, links=links,
        files=[str(p) for p in files], statement_files=statement_files, bytes=total_bytes,
        queries=queries, floor=floor,
    )


def _query_set(
    speakers: list[dict[str, Any]], words: dict[str, str], show_id: str
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The fixed queries, chosen by rank so they mean the same thing at every scale.

    The prolific speaker is the third most frequent (Zipf rank 3), the quiet
    one rank 41; the frequent word has rank 60 (in about one statement in
    twenty), the mid word rank 400, the rare one rank 3,000 (at small scales
    the nearest rank that occurs where the query looks). ``floor`` describes
    each query as the bare search it needs (speaker id, words, dates, order),
    for the SQLite FTS5 and tantivy runs.
    """
    busy, quiet = speakers[2], speakers[min(len(speakers) - 1, 40)]
    surname = busy["name"].split()[-1]
    cyr_surname = to_cyrillic(quiet["name"].split()[-1])
    frequent, mid, rare = words["frequent"], words["with_frequent_mid"], words["rare"]
    busy_mid, quiet_frequent = words["busy_mid"], words["quiet_frequent"]
    dates_frequent = words["dates_frequent"]
    queries = {
        "quote_speaker": f"/quote {surname.lower()}",
        "quote_speaker_words": f"/quote {surname.lower()} {busy_mid}",
        "quote_cyrillic_speaker_words": f"/quote {cyr_surname} {quiet_frequent}",
        "quote_words": f"/quote {frequent} {mid}",
        "quote_rare_word": f"/quote {rare}",
        "quote_words_dates": f"/quote {dates_frequent} since:2005 until:2010-06",
        "timeline_speaker": f"/timeline {surname.lower()}",
        "show": f"/show {show_id}",
    }
    floor: dict[str, dict[str, Any]] = {
        "quote_speaker": {"speaker": busy["id"], "words": []},
        "quote_speaker_words": {"speaker": busy["id"], "words": [busy_mid]},
        "quote_cyrillic_speaker_words": {"speaker": quiet["id"], "words": [quiet_frequent]},
        "quote_words": {"words": [frequent, mid]},
        "quote_rare_word": {"words": [rare]},
        "quote_words_dates": {"words": [dates_frequent], "since": "2005-01-01",
                              "until": "2010-06-30"},
        "timeline_speaker": {"speaker": busy["id"], "words": [], "chronological": True,
                             "limit": 200},
        "show": {"id": show_id},
    }
    return queries, floor


if __name__ == "__main__":  # pragma: no cover - a manual helper
    import sys

    from benchmarks import parse_scale

    manifest = generate(parse_scale(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(manifest.to_json(), indent=2))
