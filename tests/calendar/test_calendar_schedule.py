from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haoban.calendar import (
    ScheduleError,
    YearSchedule,
    package_schedule,
    parse_schedule,
    schedule_from_dict,
    schedule_to_dict,
)


def test_yaml_fixture_parses(schedule_2027: YearSchedule) -> None:
    s = schedule_2027
    assert s.year == 2027
    assert s.source == "test fixture (hypothetical)"
    assert len([d for d, n in s.holidays.items() if n == "国庆节"]) == 7
    assert s.holidays[date(2027, 2, 5)] == "春节"
    assert s.makeup_workdays == frozenset(
        {date(2027, 2, 20), date(2027, 5, 8), date(2027, 9, 26), date(2027, 10, 9)}
    )


def test_json_and_mapping_forms() -> None:
    data = {
        "year": 2027,
        "holidays": [
            {"name": "元旦", "days": ["2027-01-01"]},
            {"name": "国庆节", "from": "2027-10-01", "to": "2027-10-03"},
        ],
        "makeup_workdays": ["2027-10-09"],
    }
    s = parse_schedule(json.dumps(data).encode(), filename="notice.json")
    assert sorted(s.holidays) == [date(2027, 1, 1), date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)]
    assert s.source == "admin"
    # Sniffed as JSON without a filename; holidays may also be a {date: name} mapping.
    s2 = parse_schedule('{"year": 2027, "holidays": {"2027-01-01": "元旦"}}')
    assert s2.holidays == {date(2027, 1, 1): "元旦"} and s2.makeup_workdays == frozenset()


def test_csv_utf8_bom_and_gb18030() -> None:
    text = "date,kind,name\n# 元旦\n2027-01-01,holiday,元旦\n2027-10-01,休,国庆节\n2027-10-09,班,\n"
    for raw in (text.encode("utf-8-sig"), text.encode("gb18030"), text):
        s = parse_schedule(raw, filename="2027.csv")
        assert s.year == 2027
        assert s.holidays == {date(2027, 1, 1): "元旦", date(2027, 10, 1): "国庆节"}
        assert s.makeup_workdays == frozenset({date(2027, 10, 9)})
    # Sniffed as CSV without a filename or header.
    assert parse_schedule("2027-01-01,holiday,元旦\n").year == 2027


def _errors(data: str, filename: str | None = None) -> str:
    with pytest.raises(ScheduleError) as err:
        parse_schedule(data, filename=filename)
    assert isinstance(err.value, ValueError)
    return str(err.value)


def test_error_date_outside_year() -> None:
    msg = _errors("year: 2027\nholidays:\n  - name: 元旦\n    days: [2026-12-31, 2027-01-01]\n")
    assert "holidays[0] (元旦)" in msg and "2026-12-31" in msg and "not in 2027" in msg


def test_error_makeup_on_weekday() -> None:
    msg = _errors("year: 2027\nholidays: [{name: 元旦, days: [2027-01-01]}]\nmakeup_workdays: [2027-01-04]\n")
    assert (
        "makeup_workdays[0]" in msg
        and "2027-01-04" in msg
        and "Monday" in msg
        and "Saturday or Sunday" in msg
    )


def test_error_day_both_holiday_and_makeup() -> None:
    msg = _errors(
        "year: 2027\nholidays: [{name: 国庆节, from: 2027-10-01, to: 2027-10-09}]\n"
        "makeup_workdays: [2027-10-09]\n"
    )
    assert "2027-10-09" in msg and "both" in msg and "国庆节" in msg


def test_error_csv_line_numbers() -> None:
    msg = _errors(
        "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n2027-03-01,vacation,x\n2027-10-01,holiday,\n",
        filename="x.csv",
    )
    assert "line 3: '2027-02-30' is not a date" in msg
    assert "line 4: kind 'vacation'" in msg
    assert "line 5: holiday 2027-10-01 needs a name" in msg


def test_error_csv_several_years() -> None:
    msg = _errors("2026-12-31,holiday,x\n2027-01-01,holiday,元旦\n", filename="x.csv")
    assert "several years (2026, 2027)" in msg


def test_error_conflicting_names() -> None:
    msg = _errors(
        "year: 2027\nholidays:\n"
        "  - {name: 中秋节, days: [2027-10-01]}\n  - {name: 国庆节, days: [2027-10-01]}\n"
    )
    assert "holidays[1] (国庆节)" in msg and "中秋节" in msg


@pytest.mark.parametrize(
    ("data", "filename", "fragment"),
    [
        ("", None, "empty"),
        ("year: [oops", "a.yaml", "not valid YAML: line 1"),
        ('{"year": 2027,', "a.json", "not valid JSON"),
        ("- 1\n- 2\n", "a.yaml", "expected a mapping"),
        ("holidays: []\n", "a.yaml", "year: expected a year"),
        ("year: 2027\nholidays: []\n", "a.yaml", "no holidays listed"),
        ("year: 2027\nholiday: []\n", "a.yaml", "unknown key(s) holiday"),
        ("year: 2027\nholidays: [{days: [2027-01-01]}]\n", "a.yaml", "needs a name"),
        ("year: 2027\nholidays: [{name: x}]\n", "a.yaml", "lists no days"),
        ("year: 2027\nholidays: [{name: x, from: 2027-10-07, to: 2027-10-01}]\n", "a.yaml", "is before"),
        ("year: 2027\nholidays: [{name: x, days: [10/01/2027]}]\n", "a.yaml", "write it as YYYY-MM-DD"),
    ],
)
def test_errors_are_actionable(data: str, filename: str | None, fragment: str) -> None:
    assert fragment in _errors(data, filename)


def test_non_text_bytes() -> None:
    with pytest.raises(ScheduleError, match="UTF-8"):
        parse_schedule(b"\xff\xfe\x00\x81\xff" * 3, filename="x.csv")


def test_all_errors_reported_at_once() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_schedule(
            "year: 2027\nholidays: [{name: x, days: [2026-01-01, 2028-01-01]}]\n"
            "makeup_workdays: [2027-01-05]\n"
        )
    assert len(err.value.errors) == 3


def test_round_trip_fixture(schedule_2027: YearSchedule) -> None:
    stored = json.dumps(schedule_to_dict(schedule_2027), ensure_ascii=False)
    assert schedule_from_dict(json.loads(stored)) == schedule_2027
    # The stored form is also a valid upload.
    assert parse_schedule(stored, filename="x.json") == schedule_2027


@pytest.mark.parametrize("year", [2006, 2015, 2020, 2026])
def test_round_trip_package_years(year: int) -> None:
    s = package_schedule(year)
    assert schedule_from_dict(json.loads(json.dumps(schedule_to_dict(s)))) == s


_names = st.sampled_from(
    ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节", "special: 'x', \"y\""]
)


@settings(max_examples=60, deadline=None)
@given(year=st.integers(2000, 2100), data=st.data())
def test_prop_round_trip(year: int, data: st.DataObject) -> None:
    days = st.dates(min_value=date(year, 1, 1), max_value=date(year, 12, 31))
    holidays = data.draw(st.dictionaries(days, _names, min_size=1, max_size=20))
    makeup = data.draw(
        st.frozensets(days.filter(lambda d: d.weekday() >= 5 and d not in holidays), max_size=5)
    )
    s = YearSchedule(year=year, holidays=holidays, makeup_workdays=makeup, source="s")
    assert schedule_from_dict(json.loads(json.dumps(schedule_to_dict(s)))) == s
