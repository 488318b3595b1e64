"""Shared fixtures: a HYPOTHETICAL 2027 schedule (made up for tests, not the State Council's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from haoban.calendar import WorkCalendar, YearSchedule, package_known_years
from haoban.calendar.schedule import parse_schedule

# Made-up 2027 notice in the admin YAML format. Make-up days are weekends:
# 2027-02-20 Sat, 2027-05-08 Sat, 2027-09-26 Sun, 2027-10-09 Sat.
SCHEDULE_2027_YAML = """\
year: 2027
source: test fixture (hypothetical)
holidays:
  - name: 元旦
    from: 2027-01-01
    to: 2027-01-03
  - name: 春节
    from: 2027-02-05
    to: 2027-02-12
  - name: 清明节
    days: [2027-04-03, 2027-04-04, 2027-04-05]
  - name: 劳动节
    from: 2027-05-01
    to: 2027-05-05
  - name: 端午节
    days: [2027-06-09]
  - name: 中秋节
    days: [2027-09-15]
  - name: 国庆节
    from: 2027-10-01
    to: 2027-10-07
makeup_workdays: [2027-02-20, 2027-05-08, 2027-09-26, 2027-10-09]
"""


@pytest.fixture(scope="session")
def schedule_2027() -> YearSchedule:
    return parse_schedule(SCHEDULE_2027_YAML, filename="2027.yaml")


@pytest.fixture
def schedule_2027_file(tmp_path: Path) -> Path:
    path = tmp_path / "2027.yaml"
    path.write_text(SCHEDULE_2027_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture(scope="session")
def cal_2027(cal: WorkCalendar, schedule_2027: YearSchedule) -> WorkCalendar:
    return cal.with_schedules([schedule_2027])


@pytest.fixture(scope="session")
def unpublished_year() -> int:
    """First year after the package's known ones (2027 with holidays 0.109)."""
    return max(package_known_years()) + 1


@pytest.fixture
def package_lacks_2027() -> None:
    """Tests that say "2027 is provisional" hold only until the package ships 2027's notice."""
    if 2027 in package_known_years():
        pytest.skip("the installed holidays package now ships 2027's schedule; 2027 is no longer provisional")
