"""FEEL simple unary tests (DMN 1.3 §9.5), the subset eligibility tables need. Pure: no database.

A decision-table cell tests one input. Supported, as any DMN modeller writes them:

- ``-`` — any value;
- comparisons ``< 36``, ``<= 5.5``, ``> 0``, ``>= 80``;
- ranges ``[0..36)``, ``[80..90)``, ``]1..5]`` (square bracket: included; round or reversed: excluded);
- literals ``36``, ``"active"``, ``true``, ``false``;
- lists, any of the above separated by commas: ``"small","micro"``, ``< 18, >= 60``;
- ``not(...)`` around a list.

A parsed cell (``Test``) turns into a SQLAlchemy condition (``to_sql``, for matching a million rows in
the database) and into the Python unary test SpiffWorkflow's DMN engine evaluates (``to_spiff``, with
``?`` standing for the input), so tests can check one against the other on the same data. ``overlaps``
tells whether two cells can both hold for one value: a UNIQUE table must not have two rows that do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

NUMBER, STRING, BOOLEAN = "number", "string", "boolean"
Value = float | str | bool


class FeelError(ValueError):
    """A cell that is not a supported unary test; the message says what is wrong."""


@dataclass(frozen=True)
class Interval:
    """Numbers between ``lo`` and ``hi``; ``None`` is unbounded on that side."""

    lo: float | None
    lo_closed: bool
    hi: float | None
    hi_closed: bool

    def contains(self, x: float) -> bool:
        if self.lo is not None and (x < self.lo or (x == self.lo and not self.lo_closed)):
            return False
        return not (self.hi is not None and (x > self.hi or (x == self.hi and not self.hi_closed)))


@dataclass(frozen=True)
class Equals:
    value: Value


Atom = Interval | Equals


@dataclass(frozen=True)
class Test:
    """One cell: any value (``anything``), or a list of atoms, possibly negated."""

    text: str
    atoms: tuple[Atom, ...] = ()
    negated: bool = False
    anything: bool = False

    def kinds(self) -> set[str]:
        """The value types the cell's atoms are written in (to check against the input's type)."""
        out = set()
        for a in self.atoms:
            if isinstance(a, Interval):
                out.add(NUMBER)
            elif isinstance(a.value, bool):
                out.add(BOOLEAN)
            elif isinstance(a.value, str):
                out.add(STRING)
            else:
                out.add(NUMBER)
        return out

    def matches(self, value: Any) -> bool:
        """The cell's meaning in Python (the reference for both the SQL and the SpiffWorkflow forms)."""
        if self.anything:
            return True
        if value is None:
            return False
        hit = any(_atom_matches(a, value) for a in self.atoms)
        return not hit if self.negated else hit


def _atom_matches(a: Atom, value: Any) -> bool:
    if isinstance(a, Interval):
        return not isinstance(value, bool | str) and a.contains(float(value))
    if isinstance(a.value, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(a.value, bool) and value == a.value
    return bool(value == a.value)


# --- parsing ------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<range>\.\.)
    | (?P<op><=|>=|<|>)
    | (?P<punct>[\[\]\(\),])
    | (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FeelError(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise FeelError("the test ends too early")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        _kind, got = self.take()
        if got != value:
            raise FeelError(f"expected {value!r}, found {got!r}")

    def literal(self) -> Value:
        kind, got = self.take()
        if kind == "number":
            return float(got)
        if kind == "string":
            return got[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if kind == "word" and got in ("true", "false"):
            return got == "true"
        if kind == "word":
            raise FeelError(f'{got!r} is not a value here (quote text: "{got}")')
        raise FeelError(f"expected a value, found {got!r}")

    def number(self) -> float:
        value = self.literal()
        if isinstance(value, bool) or not isinstance(value, float):
            raise FeelError(f"a range or comparison needs a number, found {value!r}")
        return value

    def atom(self) -> Atom:
        tok = self.peek()
        if tok is None:
            raise FeelError("an empty test in a list")
        kind, got = tok
        if kind == "op":
            self.take()
            n = self.number()
            return {
                "<": Interval(None, False, n, False),
                "<=": Interval(None, False, n, True),
                ">": Interval(n, False, None, False),
                ">=": Interval(n, True, None, False),
            }[got]
        if got in ("[", "(", "]"):
            self.take()
            lo = self.number()
            _kind, sep = self.take()
            if sep != "..":
                raise FeelError(f"a range is written [low..high], found {sep!r} after the low end")
            hi = self.number()
            _, close = self.take()
            if close not in ("]", ")", "["):
                raise FeelError(f"a range ends with ] or ), found {close!r}")
            if lo > hi:
                raise FeelError(f"the range's low end {_fmt(lo)} is above its high end {_fmt(hi)}")
            return Interval(lo, got == "[", hi, close == "]")
        return Equals(self.literal())

    def tests(self) -> list[Atom]:
        atoms = [self.atom()]
        while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
            self.take()
            atoms.append(self.atom())
        return atoms


def parse(text: str | None) -> Test:
    """Parse one cell; raise ``FeelError`` saying what is wrong."""
    raw = (text or "").strip()
    if raw in ("", "-"):
        return Test(text=raw or "-", anything=True)
    p = _Parser(raw)
    negated = False
    first = p.peek()
    if first and first == ("word", "not"):
        p.take()
        p.expect("(")
        atoms = p.tests()
        p.expect(")")
        negated = True
    else:
        atoms = p.tests()
    if p.peek() is not None:
        raise FeelError(f"unexpected {p.peek()[1]!r} after the test")  # type: ignore[index]
    kinds = {NUMBER if isinstance(a, Interval) else _kind(a.value) for a in atoms}
    if len(kinds) > 1:
        raise FeelError(f"a list mixes {' and '.join(sorted(kinds))} values")
    return Test(text=raw, atoms=tuple(atoms), negated=negated)


def _kind(v: Value) -> str:
    if isinstance(v, bool):
        return BOOLEAN
    return STRING if isinstance(v, str) else NUMBER


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


# --- SQL -----------------------------------------------------------------------------------------------


def to_sql(test: Test, column: ColumnElement[Any]) -> ColumnElement[bool]:
    """The cell as a condition on ``column`` (NULL never matches, except ``-``)."""
    if test.anything:
        return true()
    parts = [_atom_sql(a, column) for a in test.atoms]
    cond = or_(*parts) if len(parts) > 1 else parts[0]
    if test.negated:
        # not(...) of a missing value is unknown in FEEL; it does not match.
        return and_(column.is_not(None), not_(cond))
    return cond


def _atom_sql(a: Atom, column: ColumnElement[Any]) -> ColumnElement[bool]:
    if isinstance(a, Interval):
        conds = []
        if a.lo is not None:
            conds.append(column >= _num(a.lo) if a.lo_closed else column > _num(a.lo))
        if a.hi is not None:
            conds.append(column <= _num(a.hi) if a.hi_closed else column < _num(a.hi))
        return and_(*conds) if len(conds) > 1 else (conds[0] if conds else column.is_not(None))
    if isinstance(a.value, bool):
        return column.is_(true()) if a.value else column.is_(false())
    if isinstance(a.value, float):
        return column == _num(a.value)
    return column == a.value


def _num(x: float) -> int | float:
    return int(x) if x == int(x) else x


# --- SpiffWorkflow's DMN engine (Python unary tests, ``?`` is the input) -------------------------------


def to_spiff(test: Test) -> str | None:
    """The same cell in the dialect SpiffWorkflow's ``DMNEngine`` evaluates (None: any value)."""
    if test.anything:
        return None
    parts = [_atom_spiff(a) for a in test.atoms]
    body = " or ".join(f"({p})" for p in parts)
    return f"(? is not None) and not ({body})" if test.negated else f"(? is not None) and ({body})"


def _atom_spiff(a: Atom) -> str:
    if isinstance(a, Interval):
        conds = ["not isinstance(?, (bool, str))"]
        if a.lo is not None:
            conds.append(f"? {'>=' if a.lo_closed else '>'} {_num(a.lo)!r}")
        if a.hi is not None:
            conds.append(f"? {'<=' if a.hi_closed else '<'} {_num(a.hi)!r}")
        return " and ".join(conds)
    if isinstance(a.value, bool):
        return f"? is {a.value!r}"
    if isinstance(a.value, float):
        return f"not isinstance(?, (bool, str)) and ? == {_num(a.value)!r}"
    return f"? == {a.value!r}"


# --- overlap (for the UNIQUE hit policy) ---------------------------------------------------------------


def overlaps(a: Test, b: Test) -> bool:
    """Whether some value satisfies both cells."""
    if a.anything or b.anything:
        return True
    kinds = a.kinds() | b.kinds()
    if kinds == {NUMBER}:
        return any(_num_witness(a, b, x) for x in _candidates(a, b))
    # Strings and booleans: a witness is one of the named values, or any other value when both are negated.
    named = {at.value for t in (a, b) for at in t.atoms if isinstance(at, Equals)}
    if any(a.matches(v) and b.matches(v) for v in named):
        return True
    if BOOLEAN in kinds:
        return any(a.matches(v) and b.matches(v) for v in (True, False))
    return a.negated and b.negated  # a string neither names


def _candidates(a: Test, b: Test) -> list[float]:
    points: set[float] = set()
    for t in (a, b):
        for at in t.atoms:
            if isinstance(at, Interval):
                points.update(x for x in (at.lo, at.hi) if x is not None)
            elif isinstance(at.value, float):
                points.add(at.value)
    ordered = sorted(points)
    out = list(ordered)
    out += [(x + y) / 2 for x, y in pairwise(ordered)]
    out += [ordered[0] - 1, ordered[-1] + 1] if ordered else [0.0]
    return out


def _num_witness(a: Test, b: Test, x: float) -> bool:
    return not math.isnan(x) and a.matches(x) and b.matches(x)
