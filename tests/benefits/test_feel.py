"""FEEL unary tests: parsing, their meaning, and the same meaning in SQL and in SpiffWorkflow's dialect."""

from __future__ import annotations

from typing import Any

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, insert, select

from haoban.benefits import feel


@pytest.mark.parametrize(
    ("text", "yes", "no"),
    [
        ("-", [0, 80, "x"], []),
        ("< 36", [0, 35, 35.99], [36, 40]),
        ("<= 5.5", [5.5, 0], [5.51, 6]),
        ("> 30", [31, 30.5], [30, 0]),
        (">= 80", [80, 120], [79, 79.99]),
        ("[0..36)", [0, 35], [-1, 36]),
        ("[80..90)", [80, 89], [79, 90]),
        ("]1..5]", [2, 5], [1, 6]),
        ("(1..5)", [2, 4], [1, 5]),
        ("[1..30]", [1, 30], [0, 31]),
        ('"active"', ["active"], ["moved_out", 1]),
        ('"small","micro"', ["small", "micro"], ["large"]),
        ("< 18, >= 60", [17, 60], [18, 59]),
        ('not("deceased")', ["active"], ["deceased", None]),
        ("true", [True], [False, 1]),
        ("false", [False], [True, 0]),
        ("36", [36], [35, 37]),
    ],
)
def test_meaning(text: str, yes: list[Any], no: list[Any]) -> None:
    t = feel.parse(text)
    assert [v for v in yes if not t.matches(v)] == []
    assert [v for v in no if t.matches(v)] == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[0..", "ends too early"),
        ("[5..1]", "above its high end"),
        ("< abc", "not a value here"),
        ('"a", 3', "mixes"),
        ("between 1 and 2", "not a value here"),
        ("[1,2]", "written [low..high]"),
        ("< 3 )", "unexpected"),
        ("@", "cannot read"),
    ],
)
def test_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(feel.FeelError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        feel.parse(text)


def test_overlaps() -> None:
    o = lambda a, b: feel.overlaps(feel.parse(a), feel.parse(b))  # noqa: E731
    assert not o("[80..90)", "[90..100)")
    assert o("[80..90]", "[90..100)")
    assert not o("> 30", "[1..30]")
    assert o("<= 5.5", "< 6")
    assert not o('"large"', '"small","micro"')
    assert o('not("large")', '"small"')
    assert not o("true", "false")
    assert o("-", "< 3")


VALUES = [-1, 0, 1, 5.5, 5.51, 29, 30, 31, 35, 36, 79, 80, 89, 90, 100]
NUMBER_TESTS = [
    "< 36",
    "<= 5.5",
    "> 30",
    ">= 80",
    "[0..36)",
    "[80..90)",
    "]1..5.5]",
    "[1..30]",
    "< 18, >= 60",
    "not([0..36))",
    "36",
]
STRINGS = ["active", "moved_out", "deceased", "large", "small"]
STRING_TESTS = ['"active"', '"small","micro","medium"', 'not("deceased")']


def test_sql_and_spiff_agree_with_the_meaning() -> None:
    """Each cell means the same compiled to SQL (SQLite here) and handed to SpiffWorkflow's engine."""
    engine = create_engine("sqlite://")
    meta = MetaData()
    t = Table("v", meta, Column("id", Integer, primary_key=True), Column("n", Float), Column("s", String))
    meta.create_all(engine)
    script = PythonScriptEngine()
    with engine.begin() as conn:
        conn.execute(insert(t), [{"id": i, "n": v, "s": None} for i, v in enumerate(VALUES)])
        conn.execute(insert(t), [{"id": 100 + i, "n": None, "s": v} for i, v in enumerate(STRINGS)])
        for text, col, values, offset in [(x, t.c.n, VALUES, 0) for x in NUMBER_TESTS] + [
            (x, t.c.s, STRINGS, 100) for x in STRING_TESTS
        ]:
            test = feel.parse(text)
            expected = {offset + i for i, v in enumerate(values) if test.matches(v)}
            got = set(conn.scalars(select(t.c.id).where(t.c.id >= offset, feel.to_sql(test, col))))
            assert got == expected, text
            spiff = feel.to_spiff(test)
            assert spiff is not None
            by_spiff = {
                offset + i
                for i, v in enumerate(values)
                if script.environment.evaluate(spiff.replace("?", "x"), {"x": v})
            }
            assert by_spiff == expected, text
