"""The UN General Debate Corpus converter (tests/datasets/ungdc.py) on the real files."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.datasets.ungdc import (
    UNGDC,
    UngdcWarning,
    is_furniture,
    is_hard_wrapped,
    ordinal,
    paragraphs,
    speakers_sheet,
    statement_records,
    write_jsonl,
)

if not UNGDC.is_dir():
    pytest.skip(
        "../shared/data/ungdc not found beside the repository (a user's machine): "
        "dataset tests skipped",
        allow_module_level=True,
    )

CLOSES = re.compile(r"[.!?:][\"'”’)\]]*$")
LAVROV = {
    "Sergey Lavrov",
    "Sergei Lavrov",
    "Mr. Sergey Lavrov",
    "Sergey V. Lavrov",
    "Mr. Sergey V. Lavrov",
}


def raw(name: str) -> str:
    return (UNGDC / name).read_text(encoding="utf-8-sig")


def text_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(statement_records())


@pytest.fixture(scope="module")
def speeches() -> dict[str, list[str]]:
    return {p.name: paragraphs(raw(p.name)) for p in sorted(UNGDC.glob("*_*_*.txt"))}


# ------------------------------------------------------------------ paragraphs


def test_rus_2016_has_the_deir_ez_zor_and_aleppo_paragraph(speeches):
    hits = [p for p in speeches["RUS_71_2016.txt"] if "Deir ez-Zor" in p and "Aleppo" in p]
    assert len(hits) == 1
    assert "investigation into the incidents in Deir ez-Zor and Aleppo" in hits[0]


def test_files_are_classified_by_line_length():
    for name in ("RUS_59_2004.txt", "RUS_60_2005.txt", "RUS_67_2012.txt", "USA_79_2024.txt"):
        assert is_hard_wrapped(text_lines(raw(name))), name
    for name in ("RUS_71_2016.txt", "RUS_79_2024.txt", "UKR_79_2024.txt", "USA_75_2020.txt"):
        assert not is_hard_wrapped(text_lines(raw(name))), name


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("RUS_59_2004.txt", 15, 45), ("USA_79_2024.txt", 50, 120), ("RUS_69_2014.txt", 15, 45)],
)
def test_hard_wrapped_files_are_rebuilt(speeches, name, low, high):
    paras = speeches[name]
    lines = text_lines(raw(name))
    assert low <= len(paras) <= high
    assert len(paras) * 3 < len(lines)
    # A hard-wrapped paragraph only ends where a sentence closes: never mid-sentence.
    for p in paras:
        assert CLOSES.search(p), p[-80:]
        assert "\n" not in p and "  " not in p


def test_hand_checked_paragraphs_of_2004(speeches):
    paras = speeches["RUS_59_2004.txt"]
    assert paras[0].startswith("I am addressing the Assembly today at a most difficult time")
    assert paras[0].endswith("to all those who have suffered from this outrage.")
    # Mis-decoded punctuation stays as the corpus has it.
    assert "families ó to all those" in paras[0]
    assert any("our countryís Constitution" in p for p in paras)
    # Across the page number "31" and the blank line after it: one paragraph.
    third = [p for p in paras if p.startswith("Thirdly, the time has come")]
    assert third == [
        "Thirdly, the time has come to renounce double standards once and for all when "
        "it comes to terror, regardless of the slogans in which it may be cloaked. Those "
        "who slaughtered children in Beslan and hijacked aeroplanes to attack America "
        "are creatures of the same ilk."
    ]
    assert paras[-1].endswith("enshrined in the United Nations Charter hold sway.")
    # A line-end compound hyphen keeps its hyphen and gains no space.
    assert any("right of self-defence" in p for p in paras)
    assert not any(re.fullmatch(r"\d+", p) for p in paras)


def test_hand_checked_paragraphs_of_2024(speeches):
    usa = speeches["USA_79_2024.txt"]
    assert usa[0] == (
        "My fellow leaders, today is the fourth time I’ve had the great honor of speaking "
        "to this assembly as president of the United States. It will be my last."
    )
    # Blank lines in mid-sentence do not cut the paragraph.
    assert any("Israel and Egypt went to war but then forged a historic peace." in p for p in usa)
    assert (
        "We were attacked on 9/11 by Al-Qaeda and Osama bin Laden. We brought him justice." in usa
    )
    rus = speeches["RUS_79_2024.txt"]
    assert rus[:2] == ["Mr President,", "Ladies and Gentlemen,"]
    assert rus[2].startswith("A few days ago, within these very walls")
    # The Markdown page separators are not paragraphs; the rest of the text is untouched.
    assert not any(p == "---" or p.startswith("#") for p in rus)
    assert any(p.startswith("The **Millennium Summit** in 2000") for p in rus)


def test_one_paragraph_per_line_files(speeches):
    paras = speeches["RUS_71_2016.txt"]
    assert len(paras) == len(text_lines(raw("RUS_71_2016.txt")))
    # 2015: a paragraph cut by a page break ("... there was" / "no suggestion ...") is one.
    assert any("there was no suggestion that unanimity" in p for p in speeches["RUS_70_2015.txt"])
    # 2017: the running counter glued to a line is dropped, the paragraph joined.
    rus17 = speeches["RUS_72_2017.txt"]
    assert not any("17-29585" in p for p in rus17)
    assert any("fair and democratic, just as the founding fathers" in p for p in rus17)
    syr15 = speeches["SYR_70_2015.txt"]
    assert not any("A/70/PV.25" in p or "15-29816" in p for p in syr15)


def test_furniture_lines():
    for line in (
        "31",
        "06-53005 28 ",
        "29 06-53005",
        "15-29816 21/45",
        "26/51 15-29431",
        "A/70/PV.25 02/10/2015",
        "29/09/2015 A/70/PV.16",
        " A/63/PV.13",
        "\x0c",
        "---",
        "### Page 3 (continued):  ",
    ):
        assert is_furniture(line), line
    for line in (
        "2015.",
        "In 2015 we",
        "(see A/70/PV.13).",
        "Mr. President,",
        "-- yes",
        "#1 priority",
    ):
        assert not is_furniture(line), line


def _without_furniture(text: str) -> str:
    kept = [line for line in text.split("\n") if not is_furniture(line)]
    out = "\n".join(kept)
    return re.sub(r"(?m)^(?:\d{1,3}/\d{1,3} \d{2}-\d{5}|\d{2}-\d{5} \d{1,3}/\d{1,3}) +", "", out)


def test_only_whitespace_changes(speeches):
    """Every paragraph is the raw text with line breaks collapsed, nothing else changed."""
    for name, paras in speeches.items():
        text = _without_furniture(raw(name))
        # Line breaks become spaces, except after a compound hyphen glued to a word.
        flat = re.sub(r"(?<=[^\W_]-)[ \t]*\n\s*(?=[^\W_])", "", text)
        flat = re.sub(r"\s+", " ", flat)
        for p in paras:
            assert re.sub(r"\s+", " ", p) in flat, (name, p[:80])
        # ... and nothing was lost or added: the same characters, in the same order.
        assert re.sub(r"\s+", "", "".join(paras)) == re.sub(r"\s+", "", text), name


def test_furniture_is_a_small_share_of_each_file():
    for path in sorted(UNGDC.glob("*_*_*.txt")):
        text = raw(path.name)
        dropped = len(re.sub(r"\s+", "", text)) - len(re.sub(r"\s+", "", _without_furniture(text)))
        assert dropped <= 0.02 * len(text), path.name


def test_paragraphs_edge_cases():
    assert paragraphs("") == []
    assert paragraphs("\ufeff\n  \n") == []
    assert paragraphs("\ufeffOne line.\nAnother line.\n") == ["One line.", "Another line."]
    assert paragraphs(" Mr. President,\nThe rest.  ") == ["Mr. President,", "The rest."]


# ------------------------------------------------------------------ the sheet and records


def test_speakers_sheet():
    sheet = speakers_sheet()
    assert sheet[("RUS", 71)] == ("Mr. Sergey Lavrov", "Minister for Foreign Affairs")
    assert sheet[("RUS", 64)][0] == "Dimitry Medvedev"
    assert sheet[("USA", 79)] == ("Joseph R. Biden", "President")
    assert sheet[("BRA", 79)][0] == "Lula da Silva"  # the whole sheet, stripped
    assert all(n == n.strip() and p == p.strip() for n, p in sheet.values())
    assert len(sheet) > 10_000


def test_ordinal():
    assert [ordinal(n) for n in (1, 12, 20, 59, 60, 71, 79)] == [
        "first",
        "twelfth",
        "twentieth",
        "fifty-ninth",
        "sixtieth",
        "seventy-first",
        "seventy-ninth",
    ]


def test_record_shape(records):
    first = records[0]
    assert first["id"] == "ungdc-rus-59-2004-p001"
    assert first["speaker"] == "Mr. Sergey Lavrov"
    rec = next(r for r in records if r["id"] == "ungdc-rus-71-2016-p001")
    assert rec == {
        "type": "statement",
        "id": "ungdc-rus-71-2016-p001",
        "speaker": "Mr. Sergey Lavrov",
        "said_on": "2016",
        "occasion": "General debate of the seventy-first session of the UN General Assembly",
        "text": rec["text"],
        "language": "en",
        "sources": [
            {
                "id": "un-ga-71-general-debate-rus",
                "title": "Russia: statement in the general debate of the seventy-first "
                "session of the UN General Assembly (2016)",
                "publisher": "United Nations",
                "published": "2016",
                "kind": "primary",
                "language": "en",
                "note": "Official UN English text, as kept in the UN General Debate Corpus "
                "(Baturo, Dasandi, Mikhaylov 2017); no per-speech URL.",
            }
        ],
        "topics": [],
    }
    assert rec["text"].startswith("Last year, from this same rostrum")
    assert not any("url" in r or any("url" in s for s in r["sources"]) for r in records)


def test_records_cover_all_speeches_in_order(records, speeches):
    per_speech = Counter(r["id"].rsplit("-p", 1)[0] for r in records)
    assert len(per_speech) == 84
    for name, paras in speeches.items():
        iso, session, year = name.removesuffix(".txt").split("_")
        assert per_speech[f"ungdc-{iso.lower()}-{session}-{year}"] == len(paras), name
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)  # sorted files, paragraphs numbered from 1 in order


def test_lavrov_spellings(records):
    rus = {r["speaker"] for r in records if r["id"].startswith("ungdc-rus-")}
    assert rus >= LAVROV
    years = {r["said_on"] for r in records if r["speaker"] in LAVROV}
    assert years == {str(y) for y in range(2004, 2025)} - {"2009", "2010", "2015", "2020"}


def test_missing_sheet_entry_is_skipped_and_reported(tmp_path):
    (tmp_path / "Speakers_by_session.csv").write_text(
        "\ufeffYear,Session,ISO Code,Country,Name of Person Speaking,Post\r\n"
        "2016,71,RUS,Russia ,\u00a0Mr. Sergey Lavrov ,Minister for Foreign Affairs \r\n",
        encoding="utf-8",
    )
    (tmp_path / "RUS_71_2016.txt").write_text("First.\nSecond.\n", encoding="utf-8")
    (tmp_path / "RUS_72_2017.txt").write_text("Not in the sheet.\n", encoding="utf-8")
    (tmp_path / "XYZ_71_2016.txt").write_text("Not asked for.\n", encoding="utf-8")
    skipped: list[str] = []
    with pytest.warns(UngdcWarning, match="RUS_72_2017.txt"):
        recs = list(statement_records(tmp_path, skipped=skipped))
    assert skipped == ["RUS_72_2017.txt"]
    assert [(r["id"], r["speaker"], r["text"]) for r in recs] == [
        ("ungdc-rus-71-2016-p001", "Mr. Sergey Lavrov", "First."),
        ("ungdc-rus-71-2016-p002", "Mr. Sergey Lavrov", "Second."),
    ]
    assert recs[0]["sources"][0]["title"].startswith("Russia: statement")


def test_write_jsonl_round_trips(records, tmp_path):
    sample = [r for r in records if r["id"].startswith(("ungdc-rus-59-", "ungdc-rus-79-"))]
    path = tmp_path / "out" / "ungdc.jsonl"
    assert write_jsonl(iter(sample), path) == len(sample)
    content = path.read_text(encoding="utf-8")
    assert "countryís" in content and "\\u" not in content  # UTF-8, not ASCII escapes
    lines = content.splitlines()
    assert len(lines) == len(sample)
    assert [json.loads(line) for line in lines] == sample
