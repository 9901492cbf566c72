"""Speaker-name matching: any script, honorifics, transliteration variants, typos.

Readers type a speaker the way they know them: ``lavrov``, ``Лавров``, ``Lavrow``,
``Mr. Sergey V. Lavrov``, or ``lavorv`` on a phone keyboard. The archive stores a
speaker's ``name`` and ``aliases`` (other spellings and scripts). This module
decides which stored speaker a piece of text means, so that the search layer can
turn ``/quote lavrov aleppo`` into "statements by sergey-lavrov about aleppo".

Everything here is pure and synchronous (no store, no platform, no I/O), so the
same rules serve ``/who``, ``/quote``, ``/timeline`` and the importers, and they
can be tested with plain data.

Matching works on *keys*, not on raw text:

* :func:`fold` turns any text into a lower-case ASCII comparison form
  (transliteration with ``anyascii``, so Cyrillic, Greek, Turkish and Vietnamese
  names become comparable to their Latin spellings).
* :func:`name_key` further drops honorifics and middle initials and applies a
  light phonetic normalisation, so that romanisation variants of one name
  ("Sergei"/"Sergey", "Lavrov"/"Lavrow", "Dmitriy"/"Dmitry") get one key.

:class:`SpeakerIndex` holds those keys in dictionaries built once, and answers
lookups with exact steps first and fuzzy (``rapidfuzz``) steps only as a fallback,
so a topic word such as "aleppo" is not mistaken for a speaker.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from anyascii import anyascii
from rapidfuzz import fuzz, process

__all__ = [
    "FUZZY_MIN_LENGTH",
    "FUZZY_THRESHOLD",
    "HONORIFICS",
    "NameMatch",
    "SpeakerIndex",
    "fold",
    "name_key",
]

#: Minimum similarity (0..100, on keys) for a fuzzy match to count as a match.
#: 80 lets one transposition in a six-letter surname through ("lavorv" vs
#: "lavrov" scores 83) while keeping unrelated words out.
FUZZY_THRESHOLD = 80.0

#: Fuzzy matching is only tried for keys at least this long: on shorter strings
#: a single edit is a large share of the word and anything matches anything.
FUZZY_MIN_LENGTH = 4

#: In a search query, a single word is only fuzzily taken for a speaker when its
#: key is at least this long, so that short topic words stay topic words.
QUERY_FUZZY_MIN_LENGTH = 5

#: Similarity needed to absorb a neighbouring query word (usually a first name)
#: into an already found speaker mention ("serge lavrov" -> one mention). Higher
#: than FUZZY_THRESHOLD because here any word next to a surname is a candidate.
ABSORB_THRESHOLD = 85.0

#: Titles and honorifics dropped from the start of a name, in folded form.
#: Deliberately small and explicit: every entry is a word that can never be the
#: distinguishing part of a speaker's name. Multi-word titles are listed before
#: their one-word prefixes so that the longest one is removed.
HONORIFICS: tuple[str, ...] = (
    "his excellency",
    "her excellency",
    "his majesty",
    "her majesty",
    "h e",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "president",
    "vice president",
    "prime minister",
    "foreign minister",
    "minister",
    "secretary general",
    "secretary",
    "ambassador",
    "senator",
    "gospodin",
)

#: Words after which a leading title is part of a body's name rather than an
#: honorific: "President of Russia" keeps its "president".
_TITLE_CONNECTORS = frozenset({"of", "for", "the", "and", "to", "in", "s"})

# anyascii turns every apostrophe-like character (U+2019, U+02BC, U+00B4, the
# Cyrillic soft sign, ...) into one of these two.
_DELETE_APOSTROPHES = str.maketrans("", "", "'`")
_POSSESSIVE = re.compile(r"['\u2019\u02bc]s\b", re.IGNORECASE)
_POSSESSIVE_MARKS = ("'", "\u2019", "\u02bc")
# Batches of texts are folded as one string joined by NUL (see _fold_joined),
# so the separator must survive folding.
_SEP = "\x00"
_NON_ALNUM = re.compile(r"[^a-z0-9\x00]+")
_DOUBLED = re.compile(r"([a-z])\1+")
# Light phonetic normalisation of romanisation variants (see name_key):
# "w" -> "v" (Lavrow / Lavrov), "y" -> "i" (Sergey / Sergei, Dmitriy / Dmitri),
# then "x" -> "ks" (Maxim / Maksim), "kh" -> "h" (Mikhail / Mihail) and
# "ph" -> "f" (Stephan / Stefan); a doubled "k"/"p" before the "h" goes too.
_PHONETIC_LETTERS = str.maketrans("wy", "vi")
_KH = re.compile(r"k+h")
_PH = re.compile(r"p+h")


def fold(text: str) -> str:
    """Return the comparison form of any text.

    NFKC first (full-width letters, ligatures and compatibility forms become
    plain letters), then ``anyascii`` transliteration to ASCII (this also strips
    diacritics: "Erdoğan" -> "Erdogan", "Лавров" -> "Lavrov"), then casefold.
    Apostrophes are deleted rather than turned into spaces, so "O'Brien",
    "OBrien" and the Cyrillic soft sign ("Ильич" -> "Il'ich") do not split a
    word in two. Every other run of non-alphanumerics becomes one space.

    The result contains only ``[a-z0-9 ]``, with single inner spaces, so
    ``fold`` is idempotent and safe to use as a dictionary key.
    """
    return _fold_joined([text]).strip()


def _fold_joined(texts: Sequence[str]) -> str:
    """Fold many texts at once; return them joined by NUL, unstripped.

    Index construction folds tens of thousands of names; one regex pass over
    one long string avoids the per-call overhead that dominates on short
    names. A NUL inside a text is treated as any other separator.
    """
    parts = []
    for text in texts:
        if not text.isascii():  # ASCII is already NFKC and its own transliteration
            text = anyascii(unicodedata.normalize("NFKC", text))
        if _SEP in text:
            text = text.replace(_SEP, " ")
        parts.append(text)
    joined = _SEP.join(parts).translate(_DELETE_APOSTROPHES).casefold()
    return _NON_ALNUM.sub(" ", joined)


def _phonetic(folded: str) -> str:
    """Collapse common romanisation variants in folded text.

    The result is a fixed point (no "w", "y", "x", "kh", "ph" or doubled
    letter is left, and collapsing letters creates no new pair), which makes
    :func:`name_key` idempotent. No rule reaches across a space or a NUL, so
    this runs over a whole batch of names at once: every step is one C-level
    pass over the joined string.
    """
    text = folded.translate(_PHONETIC_LETTERS)
    if "xx" in text:
        text = re.sub("x+", "x", text)
    text = text.replace("x", "ks")
    if "h" in text:
        text = _PH.sub("f", _KH.sub("h", text))
    return _DOUBLED.sub(r"\1", text)


# Honorifics are compared after the phonetic step, so store them in that
# form, grouped by first word and longest first ("his excellency" before "h e").
_HONORIFIC_TOKENS: dict[str, tuple[tuple[str, ...], ...]] = {}
for _title in sorted(
    {tuple(_phonetic(h).split()) for h in HONORIFICS},
    key=lambda toks: (-len(toks), toks),
):
    _HONORIFIC_TOKENS[_title[0]] = (*_HONORIFIC_TOKENS.get(_title[0], ()), _title)
del _title


def _strip_honorifics(tokens: list[str]) -> list[str]:
    """Drop leading titles, but never the whole name and never "President of ..."."""
    while tokens and tokens[0] in _HONORIFIC_TOKENS:
        for title in _HONORIFIC_TOKENS[tokens[0]]:
            n = len(title)
            if (
                len(tokens) > n
                and tuple(tokens[:n]) == title
                and tokens[n] not in _TITLE_CONNECTORS
            ):
                tokens = tokens[n:]
                break
        else:
            return tokens
    return tokens


def _key_tokens(name: str) -> list[str]:
    return _key_tokens_many([name])[0]


def _key_tokens_many(names: Sequence[str]) -> list[list[str]]:
    """The key tokens of many names (see :func:`name_key`), folded in one batch."""
    if not names:
        return []
    names = [
        _POSSESSIVE.sub("", name) if any(m in name for m in _POSSESSIVE_MARKS) else name
        for name in names
    ]
    result = []
    for part in _phonetic(_fold_joined(names)).split(_SEP):
        tokens = _strip_honorifics(part.split())
        if len(tokens) > 2:
            # Middle initials ("Sergey V. Lavrov") are optional in practice; a
            # leading or trailing single letter ("J. Smith") is kept because it
            # is then the only trace of a first name.
            tokens = [tokens[0], *(t for t in tokens[1:-1] if len(t) > 1), tokens[-1]]
        result.append(tokens)
    return result


def name_key(name: str) -> str:
    """Return the matching key of a person's or body's name.

    Why: one speaker is written in many ways. Aliases cross scripts ("Лавров"),
    romanisation systems disagree ("Sergei"/"Sergey", "Lavrov"/"Lavrow",
    "Dmitriy"/"Dmitry", "Maksim"/"Maxim", "Mikhail"/"Mihail"), and
    sources add titles and initials ("Mr. Sergey V. Lavrov", "H.E. ...").
    Comparing keys instead of raw names makes all of those equal without a
    curator having to list every spelling as an alias.

    Steps: :func:`fold` (a trailing possessive "'s" is dropped first); a light
    phonetic normalisation per word (doubled letters -> one, "kh" -> "h",
    "ph" -> "f", "x" -> "ks", "w" -> "v", "y" -> "i"); leading honorifics from
    :data:`HONORIFICS` are dropped (unless nothing would remain, or the title
    is followed by "of"/"for"/..., as in "President of Russia"); single-letter
    middle initials are dropped. The key is idempotent:
    ``name_key(name_key(x)) == name_key(x)``.

    The key is lossy on purpose ("Kerry" and "Keri" collide); it is for
    finding candidates, and the stored name is what gets displayed.
    """
    return " ".join(_key_tokens(name))


@dataclass(frozen=True)
class NameMatch:
    """One speaker that a piece of text was taken to mean.

    ``name`` is the stored name or alias that matched (for display: "did you
    mean Sergey Lavrov?"). ``score`` is the similarity (0..100) between the
    text and the matched name or name part, on keys. ``exact`` is true only when
    the text's key equals the key of a whole stored name or alias; a surname
    match or a reordered name ("Lavrov Sergey") scores 100 but is not exact.
    """

    speaker_id: str
    name: str
    score: float
    exact: bool


# A key's entries: speaker_id -> the first stored name that produced that key.
_Entries = dict[str, str]

#: Words that mark a name as a body's ("Ministry of Foreign Affairs", "Centre
#: for Reconciliation"): such names are not indexed by their last word.
_BODY_WORDS = frozenset({"of", "for", "the", "and"})

_MAX_WORDS_SLACK = 3  # honorifics and initials a query run may carry beyond a key's length


class SpeakerIndex:
    """Lookup of speakers by name, alias, surname or a near spelling.

    Built once from ``(speaker_id, name_or_alias)`` rows (a speaker has one row
    per name and alias; list the canonical name first, it is preferred for
    display when several of a speaker's names match equally). All keys are
    computed at construction and kept in dictionaries, so the exact steps are
    dictionary lookups; the fuzzy steps run ``rapidfuzz.process.extract`` over
    prebuilt key lists, which stays fast with tens of thousands of names.

    Results are deterministic: best score first, ties broken by speaker id.
    """

    def __init__(self, rows: Iterable[tuple[str, str]]) -> None:
        self._full: dict[str, _Entries] = {}
        self._reordered: dict[str, _Entries] = {}
        self._suffix: dict[str, _Entries] = {}
        self._words: dict[str, _Entries] = {}
        self._alias_keys: dict[str, dict[str, str]] = {}
        full, reordered, suffixes, words = self._full, self._reordered, self._suffix, self._words
        max_tokens = 1
        rows = list(rows)
        all_tokens = _key_tokens_many([name for _, name in rows])
        for (speaker_id, name), tokens in zip(rows, all_tokens, strict=True):
            if not tokens:
                continue
            key = " ".join(tokens)
            max_tokens = max(max_tokens, len(tokens))
            aliases = self._alias_keys.get(speaker_id)
            if aliases is None:
                aliases = self._alias_keys[speaker_id] = {}
            if key in aliases:
                continue  # another spelling of a key this speaker already has
            aliases[key] = name
            _add(full, key, speaker_id, name)
            if len(tokens) == 1:
                _add(words, key, speaker_id, name)
                continue
            _add(reordered, " ".join(sorted(tokens)), speaker_id, name)
            if _BODY_WORDS.isdisjoint(tokens):
                # A person's surname (and compound tails: "de mistura"). Bodies
                # ("Russian Centre for Reconciliation") have no surname: their
                # last word is a topic word a reader may well search for.
                _add(words, tokens[-1], speaker_id, name)
                for start in range(1, len(tokens)):
                    _add(suffixes, " ".join(tokens[start:]), speaker_id, name)
        self._max_run = max_tokens + _MAX_WORDS_SLACK
        # Fuzzy choice lists: whole names and their surname-like tails for
        # resolve(); single words (surnames, one-word aliases) for queries.
        self._resolve_keys: list[str] = list(dict.fromkeys([*self._full, *self._suffix]))
        self._full_keys: list[str] = list(self._full)
        self._word_keys: list[str] = list(self._words)

    def __len__(self) -> int:
        """Number of distinct speakers in the index."""
        return len(self._alias_keys)

    def __contains__(self, speaker_id: object) -> bool:
        return speaker_id in self._alias_keys

    # -- whole names -----------------------------------------------------------

    def strict(self, text: str) -> list[str]:
        """Speaker ids whose full name or alias key equals ``name_key(text)``.

        For importers, which must not guess: honorifics, initials, case,
        script and transliteration variants are forgiven, typos and partial
        names are not. Several ids mean the name is ambiguous.
        """
        return sorted(self._full.get(name_key(text), {}))

    def resolve(self, text: str, *, limit: int = 5) -> list[NameMatch]:
        """Speakers meant by a whole name string (``/who <name>``, importers).

        Steps, the first that finds anything wins: the key equals a stored
        name's key (score 100, exact); the same words in another order
        ("Lavrov Sergey"); the key equals the tail of a stored name (surname:
        "lavrov", or "de mistura"); fuzzy similarity of at least
        :data:`FUZZY_THRESHOLD` against names and their tails ("lavorv"). One
        entry per speaker, best first, ties by speaker id; empty when nothing
        is close enough (see :meth:`nearest` for suggestions).
        """
        tokens = _key_tokens(text)
        if not tokens or limit <= 0:
            return []
        key = " ".join(tokens)
        if key in self._full:
            return _ranked(_exact_matches(self._full[key], 100.0, True), limit)
        if len(tokens) > 1 and (entries := self._reordered.get(_sorted_key(tokens))):
            return _ranked(_exact_matches(entries, 100.0, False), limit)
        if key in self._suffix:
            return _ranked(_exact_matches(self._suffix[key], 100.0, False), limit)
        if len(key.replace(" ", "")) < FUZZY_MIN_LENGTH:
            return []
        return self._fuzzy_top(key, self._resolve_keys, fuzz.ratio, FUZZY_THRESHOLD, limit)

    def nearest(self, text: str, limit: int = 3) -> list[NameMatch]:
        """The closest stored names, however far, for "did you mean ...?".

        Uses ``fuzz.WRatio`` (which also rewards partial and reordered matches,
        so a first name alone finds its speaker) with no threshold; only names
        with no similarity at all are left out. Deterministic: best first, ties
        by speaker id, then by name.
        """
        key = name_key(text)
        if not key or limit <= 0:
            return []
        return self._fuzzy_top(key, self._full_keys, fuzz.WRatio, 0.5, limit)

    # -- search queries --------------------------------------------------------

    def split_query(self, words: Sequence[str]) -> tuple[list[NameMatch], list[str]]:
        """Separate the speaker mention in a query from its topic words.

        ``words`` is the query already split into words, e.g.
        ``["sergei", "lavrov", "aleppo"]``. The mention is, in order of
        preference (leftmost wins among equals):

        1. the longest run of consecutive words whose key equals a stored name
           or alias key (also with the words in another order, and also
           carrying honorifics and initials: "mr lavrov", "sergey v lavrov");
        2. the longest run matching a surname, i.e. the tail of a stored name
           ("lavrov", "smith", "de mistura");
        3. a single word of at least :data:`QUERY_FUZZY_MIN_LENGTH` characters
           fuzzily matching a surname or a one-word alias with a score of at
           least :data:`FUZZY_THRESHOLD` ("lavorv"); short or distant words
           ("syria", "aleppo", "ceasefire") stay topic words.

        A neighbouring word is then absorbed into the mention if it makes the
        mention a close match of a full name ("serge lavrov", "lavorv sergei").

        Returns every speaker tied for the best match (an ambiguous surname
        such as "smith" returns several), and the other words in their
        original order and form. ``([], list(words))`` when nothing matches.
        """
        words = list(words)
        keys = [_key_tokens(w) for w in words]
        found = self._exact_run(words, keys) or self._fuzzy_word(keys)
        if found is None:
            return [], words
        start, end, matches = found
        start, end, matches = self._absorb(words, keys, start, end, matches)
        return matches, words[:start] + words[end:]

    def _exact_run(
        self, words: list[str], keys: list[list[str]]
    ) -> tuple[int, int, list[NameMatch]] | None:
        best: tuple[tuple[int, int, int], int, int, list[NameMatch]] | None = None
        for start in range(len(words)):
            if not keys[start]:
                continue
            for end in range(start + 1, min(len(words), start + self._max_run) + 1):
                if not keys[end - 1]:
                    continue
                tokens = _key_tokens(" ".join(words[start:end]))
                key = " ".join(tokens)
                if key in self._full:
                    tier, entries, exact = 0, self._full[key], True
                elif len(tokens) > 1 and _sorted_key(tokens) in self._reordered:
                    tier, entries, exact = 0, self._reordered[_sorted_key(tokens)], False
                elif key in self._suffix:
                    tier, entries, exact = 1, self._suffix[key], False
                else:
                    continue
                # Lower is better: tier, then more words, then leftmost.
                rank = (tier, -(end - start), start)
                if best is None or rank < best[0]:
                    best = (rank, start, end, _exact_matches(entries, 100.0, exact))
        if best is None:
            return None
        return best[1], best[2], _ranked(best[3], None)

    def _fuzzy_word(self, keys: list[list[str]]) -> tuple[int, int, list[NameMatch]] | None:
        best: tuple[float, int, list[NameMatch]] | None = None
        for index, tokens in enumerate(keys):
            if len(tokens) != 1 or len(tokens[0]) < QUERY_FUZZY_MIN_LENGTH:
                continue
            hits = process.extract(
                tokens[0],
                self._word_keys,
                scorer=fuzz.ratio,
                score_cutoff=FUZZY_THRESHOLD,
                limit=None,
            )
            if not hits:
                continue
            top = max(score for _, score, _ in hits)
            tied = [hit for hit in hits if hit[1] == top]
            if best is None or top > best[0]:
                matches = [
                    NameMatch(speaker_id, name, top, False)
                    for _, _, i in tied
                    for speaker_id, name in self._words[self._word_keys[i]].items()
                ]
                best = (top, index, _ranked(_best_per_speaker(matches), None))
        if best is None:
            return None
        return best[1], best[1] + 1, best[2]

    def _absorb(
        self,
        words: list[str],
        keys: list[list[str]],
        start: int,
        end: int,
        matches: list[NameMatch],
    ) -> tuple[int, int, list[NameMatch]]:
        """Grow a mention by neighbouring words that complete a speaker's name."""
        current = self._run_similarity(" ".join(words[start:end]), matches)[0]
        while True:
            options = []
            if start > 0 and keys[start - 1]:
                options.append((start - 1, end))
            if end < len(words) and keys[end]:
                options.append((start, end + 1))
            best: tuple[float, int, int, list[NameMatch]] | None = None
            for new_start, new_end in options:
                score, grown = self._run_similarity(" ".join(words[new_start:new_end]), matches)
                better = best is None or score > best[0]
                if score >= ABSORB_THRESHOLD and score > current and better:
                    best = (score, new_start, new_end, grown)
            if best is None:
                return start, end, matches
            current, start, end, matches = best

    def _run_similarity(self, run: str, matches: list[NameMatch]) -> tuple[float, list[NameMatch]]:
        """Best similarity of a run to the multi-word names of the given speakers.

        Returns the score and the speakers that reach it (with the name that
        does), so absorbing "jhon" into "smith" keeps John Smith, not Jane.
        """
        key = name_key(run)
        top = 0.0
        winners: list[NameMatch] = []
        for match in matches:
            for alias_key, alias in self._alias_keys[match.speaker_id].items():
                if " " not in alias_key:
                    continue
                score = fuzz.token_sort_ratio(key, alias_key)
                candidate = NameMatch(match.speaker_id, alias, score, key == alias_key)
                if score > top:
                    top, winners = score, [candidate]
                elif score == top and score > 0:
                    winners.append(candidate)
        return top, _ranked(_best_per_speaker(winners), None)

    def _fuzzy_top(
        self,
        key: str,
        choices: list[str],
        scorer: Callable[..., float],
        cutoff: float,
        limit: int,
    ) -> list[NameMatch]:
        """The ``limit`` best speakers by fuzzy similarity of ``key`` to ``choices``.

        Asks rapidfuzz for a few times ``limit`` keys (a speaker has several)
        and widens the request only when the answer could still change: when
        fewer than ``limit`` speakers were found, or when a key left out could
        tie with the last one kept. Turning every hit into a NameMatch would
        cost more than the scoring itself on a large index.
        """
        wanted = max(limit * 8, 32)
        while True:
            hits = process.extract(key, choices, scorer=scorer, score_cutoff=cutoff, limit=wanted)
            matches = _ranked(self._fuzzy_matches(hits, choices), limit)
            if len(hits) < wanted:
                return matches  # every key above the cutoff was scored and seen
            lowest_seen = min(score for _, score, _ in hits)
            if len(matches) == limit and lowest_seen < matches[-1].score:
                return matches
            wanted *= 4

    def _fuzzy_matches(
        self, hits: list[tuple[str, float, int]], choices: list[str]
    ) -> list[NameMatch]:
        """One match per speaker from ``process.extract`` hits on ``choices``."""
        matches = []
        for _, score, index in sorted(hits, key=lambda hit: (-hit[1], hit[2])):
            key = choices[index]
            whole = self._full.get(key, {})
            for entries in (whole, self._suffix.get(key, {})):
                for speaker_id, name in entries.items():
                    exact = score == 100 and speaker_id in whole
                    matches.append(NameMatch(speaker_id, name, float(score), exact))
        return _best_per_speaker(matches)


def _add(index: dict[str, _Entries], key: str, speaker_id: str, name: str) -> None:
    """Record that ``key`` leads to ``speaker_id``; the first name stored for a key wins."""
    entries = index.get(key)
    if entries is None:
        index[key] = {speaker_id: name}
    elif speaker_id not in entries:
        entries[speaker_id] = name


def _sorted_key(tokens: Sequence[str]) -> str:
    return " ".join(sorted(tokens))


def _exact_matches(entries: _Entries, score: float, exact: bool) -> list[NameMatch]:
    return [NameMatch(speaker_id, name, score, exact) for speaker_id, name in entries.items()]


def _best_per_speaker(matches: Iterable[NameMatch]) -> list[NameMatch]:
    """Keep one match per speaker: highest score, then exact, then the first seen.

    Callers pass matches in index order, so among equals the name stored first
    (a speaker's canonical name, when rows list it first) is the one shown.
    """
    best: dict[str, NameMatch] = {}
    for match in matches:
        held = best.get(match.speaker_id)
        if held is None or (match.score, match.exact) > (held.score, held.exact):
            best[match.speaker_id] = match
    return list(best.values())


def _ranked(matches: Iterable[NameMatch], limit: int | None) -> list[NameMatch]:
    ordered = sorted(matches, key=lambda m: (-m.score, not m.exact, m.speaker_id, m.name))
    return ordered if limit is None else ordered[:limit]
