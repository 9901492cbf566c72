"""UN General Debate Corpus (UNGDC) speeches as Verbatim import records (test-side only).

The corpus lives in ``../shared/data/ungdc`` beside the repository (see
``../shared/data/README.md``); it is test material and must never ship in the
package, which is why this converter lives under ``tests/``.

Public API:

* :data:`SHARED`, :data:`UNGDC`: where the data is expected.
* :func:`paragraphs`: one speech file's text -> its paragraphs, text unchanged.
* :func:`speakers_sheet`: ``Speakers_by_session.csv`` -> ``{(ISO, session): (name, post)}``.
* :func:`statement_records`: the speeches -> one ``statement`` record per paragraph.
* :func:`write_jsonl`: records -> a UTF-8 JSON Lines file.

A speech whose (ISO, session) is missing from the sheet is skipped: a
:class:`UngdcWarning` names the file, and the file name is appended to the
``skipped`` list when the caller passes one.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "SHARED",
    "UNGDC",
    "SheetRow",
    "UngdcWarning",
    "is_furniture",
    "is_hard_wrapped",
    "ordinal",
    "paragraphs",
    "sheet_rows",
    "speakers_sheet",
    "statement_records",
    "write_jsonl",
]

#: ``shared/`` beside the repository root (``<root>/tests/datasets/ungdc.py`` -> ``<root>/..``).
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
UNGDC = SHARED / "data" / "ungdc"

SPEECH_FILE = re.compile(r"(?P<iso>[A-Z]{3})_(?P<session>\d{1,3})_(?P<year>\d{4})\.txt")

# A line "closes a sentence": . ! ? or : optionally followed by closing quotes/brackets.
_CLOSES = re.compile(r"[.!?:][\"'”’»)\]]*$")
# A line ending with a hyphen glued to a letter or digit ("self-", "2016-").
_COMPOUND_END = re.compile(r"[^\W_]-$")

# Page furniture of the printed record and of the corpus's own conversion: bare page
# numbers ("31"), job numbers with or without the page ("06-53005 28", "29 06-53005"),
# running counters ("15-29816 21/45", "26/51 15-29431"), document symbol and date headers
# ("A/70/PV.25 02/10/2015"), and the Markdown page separators of one 2024 file ("---",
# "### Page 3 (continued):"). None of these are words of the speaker.
_FURNITURE_LINE = re.compile(
    r"\d{1,3}"
    r"|\d{2}-\d{5}(?: \d{1,3}(?:/\d{1,3})?)?"
    r"|\d{1,3}(?:/\d{1,3})? \d{2}-\d{5}"
    r"|A/\d{1,3}/PV\.\d{1,3}(?: \d{2}/\d{2}/\d{4})?"
    r"|\d{2}/\d{2}/\d{4} A/\d{1,3}/PV\.\d{1,3}"
    r"|-{3,}"
    r"|#{1,6} .*"
)
# The same running counter glued to the start of a text line (2017 files:
# "26/33 17-29585 just as the founding fathers ...").
_FURNITURE_PREFIX = re.compile(r"(?:\d{1,3}/\d{1,3} \d{2}-\d{5}|\d{2}-\d{5} \d{1,3}/\d{1,3}) +")

# Hard-wrapped detection and the width rule (see ``paragraphs``).
_MIN_LINES_FOR_WRAP = 5
_MAX_COLUMN = 100  # no printed column of the record holds more characters than this
_WRAP_SPREAD = 1.25  # p90 / median line length stays under this for a column of type
_SHORT_MARGIN = 4  # "clearly shorter": the next word fits with this many characters to spare
_FULL_SLACK = 2  # "about full" when followed by a short (indented) first line
_MARKS_NEEDED = 3  # explicit paragraph marks needed before a file is trusted to use them


class UngdcWarning(UserWarning):
    """A speech of the corpus was skipped (reason in the message)."""


class SheetRow(NamedTuple):
    """One row of ``Speakers_by_session.csv``, every field stripped."""

    year: str
    session: int
    iso: str
    country: str
    name: str
    post: str


# --------------------------------------------------------------------------- paragraphs


def is_furniture(line: str) -> bool:
    """True for a line that is page furniture, not speech (see ``_FURNITURE_LINE``).

    A line holding a form feed (a page break of the PDF extraction) also counts.
    """
    if "\x0c" in line and not line.replace("\x0c", "").strip():
        return True
    return bool(_FURNITURE_LINE.fullmatch(line.strip()))


def _percentile(sorted_values: list[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def is_hard_wrapped(lines: Iterable[str]) -> bool:
    """Decide whether text lines are the hard-wrapped lines of a printed column.

    Why line lengths: a column of type gives lines of nearly equal length (the
    UNGDC files of 2004-2014 have a median of 49-53 characters and a 90th
    percentile at most 1.12 times the median; the hard-wrapped 2024 speech has 72
    and 78), while a file with one paragraph per line has line lengths that vary
    with the paragraphs (medians of 104-881 characters, 90th percentile at least
    1.36 times the median). So a file is hard-wrapped when it has at least 5 text
    lines, a median length of at most 100 characters, and a 90th percentile within
    25 % of the median. The gap between the two groups is wide on every file.
    """
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    if len(lengths) < _MIN_LINES_FOR_WRAP:
        return False
    median = statistics.median(lengths)
    return median <= _MAX_COLUMN and _percentile(lengths, 0.9) <= _WRAP_SPREAD * median


class _Line(NamedTuple):
    text: str  # stripped, furniture prefix removed
    indented: bool  # began with whitespace in the file
    gap: str  # what separates it from the previous text line: "", "blank" or "page"


def _text_lines(raw: str) -> list[_Line]:
    out: list[_Line] = []
    gap = ""
    for line in raw.split("\n"):
        if not line.strip():
            gap = gap or "blank"
            continue
        if is_furniture(line):
            gap = "page"
            continue
        text = line.strip()
        prefix = _FURNITURE_PREFIX.match(text)
        if prefix:
            text = text[prefix.end() :]
            gap = "page"
        out.append(_Line(text, line[:1].isspace(), gap if out else ""))
        gap = ""
    return out


def _first_word(text: str) -> str:
    return text.split(maxsplit=1)[0]


def _short(line: str, next_line: str, width: int, spare: int) -> bool:
    """The next line's first word would have fitted on ``line`` with ``spare`` to spare."""
    return len(line) + 1 + len(_first_word(next_line)) <= width - spare


def _join(left: str, right: str) -> str:
    # A hyphen glued to a word at the end of a line, before a word, is a compound split
    # at the line end: keep the hyphen and add no space. In the corpus all 71 such
    # breaks are compounds ("self-"/"defence", "Asia-"/"Pacific", "2016-"/"2017"); the
    # record never hyphenates plain words. Anything else is joined with one space.
    if _COMPOUND_END.search(left) and right[:1].isalnum():
        return left + right
    return left + " " + right


def paragraphs(raw: str) -> list[str]:
    """Split one UNGDC speech into paragraphs; only whitespace between lines changes.

    Characters are kept exactly as the corpus gives them (mis-decoded punctuation
    such as ``countryís`` stays). Lines are stripped and joined with one space,
    except that a line ending with a hyphen glued to a word ("self-", "Asia-",
    "2016-") is joined without a space to a next line that starts with a letter or
    digit: every such break in the corpus splits a compound at its hyphen, and the
    hyphen itself is always kept (no de-hyphenation is guessed, none is needed:
    the record never hyphenates a plain word). A leading byte-order mark is
    dropped (an encoding artefact), and so is page furniture (page numbers, job
    numbers, running headers, form feeds, Markdown page separators; see
    ``is_furniture``), which is no word of the speaker.

    The file is first classified by :func:`is_hard_wrapped` (line lengths).

    One paragraph per line (most files from 2015 on): every line is a paragraph,
    except that a line which does not close a sentence is joined to the next when
    it ends with a letter, digit or hyphen, or when the next line starts with a
    lowercase letter: those are paragraphs cut by a page break of the source PDF
    ("... there was" / "no suggestion that ..."). A salutation such as "Mr. President,"
    followed by a capitalised line stays on its own.

    Hard-wrapped (2004-2014 and the 2024 US speech): a line that does not close a
    sentence (end with . ! ? or :, possibly followed by closing quotes or brackets)
    never ends a paragraph, even before a blank line or a page break, because the
    files have blank lines and page breaks in mid-sentence. After a line that closes
    a sentence, a paragraph ends

    * when the next line is indented, in a file that indents first lines (2006-2011:
      the indentation of the record is kept and is then the reliable mark);
    * at a blank line (2013-2014 and 2024 separate paragraphs this way);
    * otherwise, only in a file with neither mark (2004, 2005, 2012) or across a
      page break (which hides the mark), when the line is clearly short: the next
      line's first word would have fitted on it with 4 characters to spare, the
      width being the file's 90th-percentile line length; or when the line is about
      full (within 2 characters) and the next line is itself short (3 characters
      to spare), as the indented first line of a paragraph is.

    Measured on the 2006-2011 files, where the indentation gives the truth, the
    width rule alone finds 88 % of the paragraph ends with 4 % false breaks; in
    files that mark paragraphs it is not used, as it would only add false breaks.
    """
    lines = _text_lines(raw.removeprefix("\ufeff"))
    if not lines:
        return []
    texts = [line.text for line in lines]
    breaks = [False] * len(lines)  # breaks[i]: a paragraph ends after lines[i]

    if not is_hard_wrapped(texts):
        for i in range(len(lines) - 1):
            here, after = texts[i], texts[i + 1]
            if _CLOSES.search(here):
                breaks[i] = True
            else:
                joins = here[-1].isalnum() or here.endswith("-") or after[:1].islower()
                breaks[i] = not joins
    else:
        width = _percentile(sorted(len(t) for t in texts), 0.9)
        closes = [bool(_CLOSES.search(t)) for t in texts]
        indent_marks = sum(1 for j in range(1, len(lines)) if lines[j].indented and closes[j - 1])
        blank_marks = sum(
            1 for j in range(1, len(lines)) if lines[j].gap == "blank" and closes[j - 1]
        )
        indent_marked = indent_marks >= _MARKS_NEEDED
        marked = indent_marked or blank_marks >= _MARKS_NEEDED
        for i in range(len(lines) - 1):
            if not closes[i]:
                continue
            nxt = lines[i + 1]
            if (indent_marked and nxt.indented) or nxt.gap == "blank":
                breaks[i] = True
            elif (nxt.gap == "page" and not indent_marked) or not marked:
                after_next = texts[i + 2] if i + 2 < len(texts) else ""
                breaks[i] = _short(texts[i], nxt.text, width, _SHORT_MARGIN) or (
                    _short(texts[i], nxt.text, width, -_FULL_SLACK)
                    and bool(after_next)
                    and _short(nxt.text, after_next, width, _SHORT_MARGIN - 1)
                )

    out: list[str] = []
    current = texts[0]
    for i in range(1, len(texts)):
        if breaks[i - 1]:
            out.append(current)
            current = texts[i]
        else:
            current = _join(current, texts[i])
    out.append(current)
    return [p.strip() for p in out if p.strip()]


# --------------------------------------------------------------------------- the sheet


def sheet_rows(path: Path = UNGDC / "Speakers_by_session.csv") -> dict[tuple[str, int], SheetRow]:
    """Rows of ``Speakers_by_session.csv`` keyed by (ISO code, session).

    The file is UTF-8 (read as ``utf-8-sig``, so a byte-order mark is tolerated)
    with CRLF line ends and some non-breaking spaces around values; every field is
    stripped. Rows without a numeric session or an ISO code are ignored. When a key
    occurs twice (USA 2024 is listed twice), the first row wins.
    """
    rows: dict[tuple[str, int], SheetRow] = {}
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        for rec in reader:
            iso = (rec.get("ISO Code") or "").strip()
            session = (rec.get("Session") or "").strip()
            if not iso or not session.isdigit():
                continue
            row = SheetRow(
                year=(rec.get("Year") or "").strip(),
                session=int(session),
                iso=iso,
                country=(rec.get("Country") or "").strip(),
                name=(rec.get("Name of Person Speaking") or "").strip(),
                post=(rec.get("Post") or "").strip(),
            )
            rows.setdefault((iso, row.session), row)
    return rows


def speakers_sheet(
    path: Path = UNGDC / "Speakers_by_session.csv",
) -> dict[tuple[str, int], tuple[str, str]]:
    """(ISO code, session) -> (name of the person speaking, post), as in the sheet, stripped."""
    return {key: (row.name, row.post) for key, row in sheet_rows(path).items()}


# --------------------------------------------------------------------------- records

_UNITS = (
    "",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
)
_TENS = ("", "", "twent", "thirt", "fort", "fift", "sixt", "sevent", "eight", "ninet")


def ordinal(n: int) -> str:
    """The ordinal in words, as the UN names its sessions: 59 -> "fifty-ninth"."""
    if not 1 <= n <= 99:
        suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    if n < 20:
        return _UNITS[n]
    tens, units = divmod(n, 10)
    if units == 0:
        return _TENS[tens] + "ieth"
    return f"{_TENS[tens]}y-{_UNITS[units]}"


NOTE = (
    "Official UN English text, as kept in the UN General Debate Corpus "
    "(Baturo, Dasandi, Mikhaylov 2017); no per-speech URL."
)


def statement_records(
    folder: Path = UNGDC,
    isos: Iterable[str] = ("RUS", "USA", "UKR", "SYR"),
    *,
    sheet: Path | None = None,
    skipped: list[str] | None = None,
) -> Iterator[dict]:
    """One ``statement`` import record per paragraph of every ``{ISO}_{session}_{year}.txt``.

    Files are taken in sorted order of their names, only for the given ISO codes;
    paragraphs are numbered from 1 within a speech. The speaker is the name of
    the person speaking exactly as the sheet gives it (``sheet``, default
    ``folder / "Speakers_by_session.csv"``), and the country of the source title is
    the sheet's Country column. The corpus gives no URL, so the records carry none.

    A speech whose (ISO, session) is not in the sheet is skipped: a
    :class:`UngdcWarning` is issued and the file name is appended to ``skipped``
    when a list is given.
    """
    folder = Path(folder)
    wanted = {iso.upper() for iso in isos}
    rows = sheet_rows(sheet if sheet is not None else folder / "Speakers_by_session.csv")
    for path in sorted(folder.glob("*.txt"), key=lambda p: p.name):
        m = SPEECH_FILE.fullmatch(path.name)
        if not m or m["iso"] not in wanted:
            continue
        iso, session, year = m["iso"], int(m["session"]), m["year"]
        row = rows.get((iso, session))
        if row is None:
            warnings.warn(
                f"{path.name}: ({iso}, {session}) is not in the speakers sheet; speech skipped",
                UngdcWarning,
                stacklevel=2,
            )
            if skipped is not None:
                skipped.append(path.name)
            continue
        nth = ordinal(session)
        source = {
            "id": f"un-ga-{session}-general-debate-{iso.lower()}",
            "title": (
                f"{row.country}: statement in the general debate of the {nth} session "
                f"of the UN General Assembly ({year})"
            ),
            "publisher": "United Nations",
            "published": year,
            "kind": "primary",
            "language": "en",
            "note": NOTE,
        }
        for n, text in enumerate(paragraphs(path.read_text(encoding="utf-8-sig")), start=1):
            yield {
                "type": "statement",
                "id": f"ungdc-{iso.lower()}-{session}-{year}-p{n:03d}",
                "speaker": row.name,
                "said_on": year,
                "occasion": f"General debate of the {nth} session of the UN General Assembly",
                "text": text,
                "language": "en",
                "sources": [dict(source)],
                "topics": [],
            }


def write_jsonl(records: Iterable[dict], path: Path | str) -> int:
    """Write records as UTF-8 JSON Lines (non-ASCII kept as is); return how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            count += 1
    return count
