from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haoban.calendar.cli import app

runner = CliRunner()


def test_deadline_text() -> None:
    result = runner.invoke(app, ["deadline", "--start", "2026-09-30T10:00", "--working-days", "3"])
    assert result.exit_code == 0, result.output
    assert "2026-10-10 23:59:59 +0800" in result.stdout
    assert "provisional" not in result.stdout


def test_deadline_json() -> None:
    result = runner.invoke(app, ["deadline", "--start", "2026-09-30T10:00", "--working-days", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == {
        "deadline": "2026-10-10T23:59:59.999999+08:00",
        "provisional": False,
        "unit": "working_days",
        "amount": 3,
    }
    assert datetime.fromisoformat(payload["deadline"]).utcoffset() is not None


def test_deadline_provisional(package_lacks_2027: None) -> None:
    result = runner.invoke(app, ["deadline", "--start", "2026-12-30T10:00", "--working-days", "3"])
    assert result.exit_code == 0
    assert "2027-01-05" in result.stdout and "provisional" in result.stdout and "2027" in result.stdout
    result = runner.invoke(app, ["deadline", "--start", "2026-12-30T10:00", "--working-days", "3", "--json"])
    assert json.loads(result.stdout)["provisional"] is True


def test_deadline_with_schedule_file(schedule_2027_file: Path) -> None:
    path = schedule_2027_file
    args = [
        "deadline",
        "--start",
        "2027-02-19T10:00",
        "--working-days",
        "1",
        "--json",
        "--schedule",
        str(path),
    ]
    payload = json.loads(runner.invoke(app, args).stdout)
    assert payload["deadline"].startswith("2027-02-20T23:59:59") and payload["provisional"] is False


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--start", "2026-06-22T11:00+08:00", "--working-hours", "2"], "2026-06-22T14:00:00+08:00"),
        (["--start", "2026-06-22T03:00Z", "--working-hours", "2"], "2026-06-22T14:00:00+08:00"),
        (["--start", "2026-10-01T10:00", "--calendar-hours", "36"], "2026-10-02T22:00:00+08:00"),
        (["--start", "2026-10-01T10:00", "--calendar-days", "0"], "2026-10-01T23:59:59.999999+08:00"),
        (
            ["--start", "2026-06-22T11:00", "--working-hours", "1", "--office-hours", "08:00-11:30"],
            "2026-06-23T08:30:00+08:00",
        ),
    ],
)
def test_deadline_other_units(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["deadline", *args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deadline"] == expected


def test_deadline_defaults_to_now() -> None:
    result = runner.invoke(app, ["deadline", "--calendar-hours", "1", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["provisional"] is False


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--start", "2026-09-30T10:00"], "exactly one of"),
        (["--start", "2026-09-30T10:00", "--working-days", "3", "--calendar-days", "1"], "exactly one of"),
        (["--start", "2026-09-30T10:00", "--working-days", "-1"], "must not be negative"),
        (["--start", "2026-09-30T10:00", "--working-days", "1.5"], "whole number"),
        (["--start", "2026-02-30T10:00", "--working-days", "1"], "is not a date-time"),
        (["--start", "yesterday", "--working-days", "1"], "is not a date-time"),
        (["--start", "2026-09-30T10:00", "--working-hours", "1", "--office-hours", "9-5"], "office hours"),
        (
            ["--start", "2026-09-30T10:00", "--working-days", "1", "--schedule", "/nonexistent.yaml"],
            "cannot read",
        ),
    ],
)
def test_deadline_bad_input(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["deadline", *args])
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert result.stdout == ""


def test_deadline_bad_schedule_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("year: 2027\nholidays: [{name: x, days: [2027-01-01]}]\nmakeup_workdays: [2027-01-04]\n")
    result = runner.invoke(app, ["deadline", "--working-days", "1", "--schedule", str(path)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.stderr and "2027-01-04" in result.stderr


def test_non_number_amount_is_usage_error() -> None:
    result = runner.invoke(app, ["deadline", "--working-days", "three"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("day", "verdict", "fragment"),
    [
        ("2026-10-01", "no:", "holiday: 国庆节"),
        ("2026-10-10", "yes:", "make-up working day"),
        ("2026-10-11", "no:", "weekend"),
        ("2026-10-12", "yes:", "ordinary working day"),
    ],
)
def test_is_workday_text(day: str, verdict: str, fragment: str) -> None:
    result = runner.invoke(app, ["is-workday", day])
    assert result.exit_code == 0
    assert result.stdout.startswith(verdict) and fragment in result.stdout
    assert "provisional" not in result.stdout


def test_is_workday_json_and_provisional(package_lacks_2027: None) -> None:
    result = runner.invoke(app, ["is-workday", "2027-10-01", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "date": "2027-10-01",
        "workday": False,
        "kind": "holiday",
        "name": "国庆节",
        "provisional": True,
    }
    assert "provisional" in runner.invoke(app, ["is-workday", "2027-03-03"]).stdout


def test_is_workday_bad_date() -> None:
    result = runner.invoke(app, ["is-workday", "2026-02-30"])
    assert result.exit_code == 2 and "is not a date" in result.stderr


def test_show() -> None:
    result = runner.invoke(app, ["show", "2026"])
    assert result.exit_code == 0, result.output
    for fragment in ("2026-10-10", "调休上班", "国庆节", "2026-10-04", "published", "working days in 2026"):
        assert fragment in result.stdout


def test_show_with_schedule(schedule_2027_file: Path) -> None:
    result = runner.invoke(app, ["show", "2027", "--schedule", str(schedule_2027_file)])
    assert result.exit_code == 0, result.output
    assert "admin schedule" in result.stdout and "2027-02-20" in result.stdout


def test_show_provisional(package_lacks_2027: None) -> None:
    assert "PROVISIONAL" in runner.invoke(app, ["show", "2027"]).stdout
