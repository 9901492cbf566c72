import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model.dates import DateError, PartialDate, Precision


@pytest.mark.parametrize(
    ("text", "precision", "human", "first", "last"),
    [
        ("2016", Precision.YEAR, "2016", "2016-01-01", "2016-12-31"),
        ("2016-02", Precision.MONTH, "Feb 2016", "2016-02-01", "2016-02-29"),
        ("2016-12-08", Precision.DAY, "8 Dec 2016", "2016-12-08", "2016-12-08"),
    ],
)
def test_precision_is_kept(text, precision, human, first, last):
    date = PartialDate.parse(text)
    assert date.precision is precision
    assert date.iso() == text
    assert date.human() == human
    assert date.first_day().isoformat() == first
    assert date.last_day().isoformat() == last


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2016-13", "month 13 does not exist"),
        ("2015-02-29", "day 29 does not exist"),
        ("8 Dec 2016", "write YYYY, YYYY-MM or YYYY-MM-DD"),
        ("", "write YYYY"),
    ],
)
def test_bad_dates_say_what_to_fix(text, says):
    with pytest.raises(DateError, match=says):
        PartialDate.parse(text)


def test_yaml_dates_and_years_are_accepted():
    assert PartialDate.parse(dt.date(2016, 12, 9)).iso() == "2016-12-09"
    assert PartialDate.parse(2004).iso() == "2004"


@given(st.dates(min_value=dt.date(1, 1, 1)))
def test_round_trip(date):
    parsed = PartialDate.parse(date.isoformat())
    assert parsed.first_day() == date == parsed.last_day()
