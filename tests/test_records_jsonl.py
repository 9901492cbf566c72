"""A JSON Lines file read from disk gives the records and rejections of its text.

``read_jsonl_file`` takes the common line (an object of a known type) by a
quicker way than ``read_jsonl``; every other line goes the careful way. The
two must agree on every line, whichever way it went.
"""

from __future__ import annotations

from pathlib import Path

from bot.model.entries import Kind
from bot.transfer.records import JsonLine, ReadResult, read_jsonl, read_jsonl_file

LINES = [
    '{"type":"speaker","id":"jane-roe","name":"Jane Roe"}',
    '{"id":"s-1","speaker":"jane-roe","said_on":"2016","text":"No type: a statement."}',
    '{"type":"statement","id":"s-2","text":"Ended by CR LF."}\r',
    '{"type":"event","id":"e-1","title":"Привет, мир","happened_on":"2016-12-08"}',
    '  {"type":"source","id":"src-1","title":"Spaces around"}   ',
    '',
    '   ',
    '{"type":"speech","id":"x-1"}',
    '{"type":"statement ","id":"x-2"}',
    '{"type":"statement","id":17}',
    '{"type":"statement","id":123456789012345678901234567890}',
    '{"type":7,"id":"x-3"}',
    '{"type":"statement","id":"x-4","text":NaN}',
    '{"type":"statement","id":"x-5","text":"lone \\ud800 half"}',
    '{"type":"statement","id":"x-6","text":"a\u2028b\u2029c\u0085d"}',
    '{"type":"statement","id":"x-7"',
    '[1, 2]',
    '"just text"',
    '{"type":"statement","type":"event","id":"x-8"}',
    '{"type":null,"id":"x-9"}',
    '{"type":"statement","id":null,"text":"No id."}',
    '{"type":"statement"} trailing',
]


def _seen(result: ReadResult) -> tuple[list[tuple[Kind, object, str, int]], list[str]]:
    records = []
    for record in result.records:
        assert isinstance(record, JsonLine)
        records.append((record.kind, record.given_id, record.origin.path, record.origin.line))
    return records, [f"{e.origin}: {e.field}: {e.message}" for e in result.errors]


def _both(tmp_path: Path, text: str) -> tuple[object, object]:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(text.encode("utf-8"))
    from_file = read_jsonl_file(path, "rows.jsonl")
    try:
        return _seen(from_file), _seen(read_jsonl(text.removeprefix("\ufeff"), "rows.jsonl"))
    finally:
        from_file.close()


def test_every_kind_of_line_is_read_from_a_file_as_from_its_text(tmp_path: Path) -> None:
    from_file, from_text = _both(tmp_path, "\n".join(LINES) + "\n")

    assert from_file == from_text
    records, errors = from_file
    assert [(kind, given) for kind, given, _, _ in records[:5]] == [
        (Kind.SPEAKER, "jane-roe"), (Kind.STATEMENT, "s-1"), (Kind.STATEMENT, "s-2"),
        (Kind.EVENT, "e-1"), (Kind.SOURCE, "src-1")]
    # An id that is not text is kept as the standard library reads it, to be refused
    # when checked.
    assert (Kind.STATEMENT, 17, "rows.jsonl", 10) in records
    assert (Kind.STATEMENT, 123456789012345678901234567890, "rows.jsonl", 11) in records
    assert (Kind.EVENT, "x-8", "rows.jsonl", 19) in records  # the last "type" counts
    assert any(line == 14 for _, _, _, line in records)  # a lone surrogate's escape
    assert any(e.startswith("rows.jsonl:8: type: 'speech' is not one of") for e in errors)
    assert any(e.startswith("rows.jsonl:16: : not valid JSON") for e in errors)
    assert "rows.jsonl:17: : each line must be a JSON object" in errors
    assert not any(e.startswith(("rows.jsonl:6:", "rows.jsonl:7:")) for e in errors)


def test_a_first_line_after_a_byte_order_mark_is_read_as_from_its_text(tmp_path: Path) -> None:
    from_file, from_text = _both(tmp_path, "\ufeff" + "\n".join(LINES[:4]) + "\n")

    assert from_file == from_text
    assert from_file[0][0] == (Kind.SPEAKER, "jane-roe", "rows.jsonl", 1)


def test_a_line_that_is_not_utf8_rejects_the_file_naming_its_byte(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    good = (LINES[0] + "\n").encode("utf-8")
    bad = b'{"type":"statement","id":"x","text":"caf\xe9"}\n'
    path.write_bytes(good + bad)
    at = len(good) + bad.index(b"\xe9")

    result = read_jsonl_file(path, "rows.jsonl")
    result.close()

    assert not result.records
    assert [e.message for e in result.errors] == [
        f"not UTF-8 text (invalid continuation byte at byte {at})"]
