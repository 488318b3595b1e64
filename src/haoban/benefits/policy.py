"""A policy is a DMN 1.3 decision table: loaded with SpiffWorkflow's DMN parser, checked, compiled to SQL.

What a policy table looks like (any DMN modeller draws it; see ``policies/README.md``):

- one ``decision`` whose id is the policy's code and whose name is its title (育儿补贴 …);
- hit policy ``UNIQUE`` (no two rows may hold for one subject — checked here) or ``FIRST``;
- inputs whose expression names a fact of one subject kind (``haoban.benefits.facts``); every input
  cell is a FEEL unary test (``haoban.benefits.feel``);
- outputs: ``period`` (``"month"``, ``"year"`` or ``"once"``, the same in every row) and the amount,
  either ``amount_fen`` (an integer number of fen) or ``share_percent`` with ``base`` (the name of a
  number fact: the amount is that share of it, rounded down to the fen).

``load`` refuses a table that breaks any of this with ``PolicyInvalid``: the row (1-based, as the
modeller numbers them), the column and the reason, for every problem found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser
from sqlalchemy import case
from sqlalchemy.sql.elements import ColumnElement

from haoban.benefits import feel
from haoban.benefits.facts import FACTS, fact_kind_of
from haoban.errors import Invalid

HIT_POLICIES = ("UNIQUE", "FIRST")
PERIOD_UNITS = ("month", "year", "once")
OUTPUTS = ("period", "amount_fen", "share_percent", "base")
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Problem:
    row: int | None  # None: the table as a whole
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "table"
        return f"{where}, {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"


class PolicyInvalid(Invalid):
    """A DMN table refused at upload, with every problem as (row, column, reason)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            f"the decision table is refused: {first}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            fields={"file": str(first)},
            problems=[{"row": p.row, "column": p.column, "reason": p.reason} for p in problems],
        )
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    row: int
    tests: tuple[feel.Test, ...]
    outputs: dict[str, Any]
    label: str

    def amount(self, facts: dict[str, Any]) -> int:
        """The amount in fen this row grants a subject with ``facts``."""
        if "amount_fen" in self.outputs:
            return int(self.outputs["amount_fen"])
        base = facts.get(self.outputs["base"]) or 0
        # Integer arithmetic in fen: a share of a sum of fen, rounded down.
        return int(int(base) * round(float(self.outputs["share_percent"]) * 100)) // 10000


@dataclass(frozen=True)
class PolicyTable:
    code: str
    name: str
    hit_policy: str
    inputs: tuple[str, ...]
    input_labels: tuple[str, ...]
    rules: tuple[Rule, ...]
    subject_kind: str
    period_unit: str
    xml: str = field(repr=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.xml.encode("utf-8")).hexdigest()

    @property
    def base_facts(self) -> list[str]:
        return sorted({r.outputs["base"] for r in self.rules if "base" in r.outputs})

    def used_facts(self) -> list[str]:
        return list(dict.fromkeys([*self.inputs, *self.base_facts]))

    def row_case(self, facts: dict[str, ColumnElement[Any]]) -> ColumnElement[Any]:
        """SQL: the number of the first row that holds, or NULL (UNIQUE tables have at most one)."""
        whens = []
        for rule in self.rules:
            conds = [feel.to_sql(t, facts[name]) for t, name in zip(rule.tests, self.inputs, strict=True)]
            whens.append((_all(conds), rule.row))
        return case(*whens, else_=None)

    def decide(self, facts: dict[str, Any]) -> Rule | None:
        """The first row that holds for ``facts``, in Python (for one subject and for the tests)."""
        for rule in self.rules:
            if all(t.matches(facts.get(n)) for t, n in zip(rule.tests, self.inputs, strict=True)):
                return rule
        return None

    def rule(self, row: int) -> Rule:
        return next(r for r in self.rules if r.row == row)


def _all(conds: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    from sqlalchemy import and_

    return and_(*conds) if len(conds) > 1 else conds[0]


# --- loading -------------------------------------------------------------------------------------------


def _spiff_table(xml: str) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise PolicyInvalid([Problem(None, "", f"not well-formed XML: {exc}")]) from None
    dmn = BpmnDmnParser()
    try:
        dmn.add_dmn_xml(root)
        (dmn_parser,) = dmn.dmn_parsers.values()
        dmn_parser.parse()
    except ValidationException as exc:
        raise PolicyInvalid([Problem(None, "", f"not a DMN decision table: {exc}")]) from None
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        raise PolicyInvalid(
            [Problem(None, "", f"not a DMN decision table ({exc.__class__.__name__}: {exc})")]
        ) from None
    decision = dmn_parser.decision
    if len(decision.decisionTables) != 1:
        raise PolicyInvalid([Problem(None, "", "a policy is exactly one decision with one decision table")])
    return decision, decision.decisionTables[0]


def load(xml: str | bytes) -> PolicyTable:
    """Parse and check a DMN file; raise ``PolicyInvalid`` listing every problem."""
    if isinstance(xml, bytes):
        if len(xml) > MAX_BYTES:
            raise PolicyInvalid([Problem(None, "", f"the file is larger than {MAX_BYTES} bytes")])
        try:
            xml = xml.decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyInvalid([Problem(None, "", "the file is not UTF-8 text")]) from None
    decision, table = _spiff_table(xml)
    problems: list[Problem] = []
    hit = (table.hit_policy or "UNIQUE").upper()
    if hit not in HIT_POLICIES:
        problems.append(Problem(None, "hitPolicy", f"{hit} is not supported; use UNIQUE or FIRST"))

    inputs = [(inp.expression or "").strip() for inp in table.inputs]
    labels = [inp.label or inp.expression or "" for inp in table.inputs]
    for i, name in enumerate(inputs, start=1):
        if not any(name in facts for facts in FACTS.values()):
            known = ", ".join(sorted({n for f in FACTS.values() for n in f}))
            problems.append(Problem(None, f"input {i}", f"unknown fact {name!r}; known facts: {known}"))
    kind = fact_kind_of(inputs) if inputs else None
    if inputs and kind is None and not problems:
        problems.append(Problem(None, "inputs", "the inputs mix facts of people and of companies"))
    outputs = [o.name or o.label for o in table.outputs]
    for name in outputs:
        if name not in OUTPUTS:
            problems.append(Problem(None, f"output {name!r}", f"unknown output; use {', '.join(OUTPUTS)}"))
    if "period" not in outputs:
        problems.append(Problem(None, "outputs", "a policy needs a period output (month, year or once)"))
    if "amount_fen" not in outputs and "share_percent" not in outputs:
        problems.append(Problem(None, "outputs", "a policy needs amount_fen, or share_percent with base"))
    if not table.rules:
        problems.append(Problem(None, "", "the table has no rows"))

    rules: list[Rule] = []
    for r in table.rules:
        rules.append(_rule(r, inputs, labels, outputs, kind, problems))
    periods = {r.outputs.get("period") for r in rules}
    if len(periods - {None}) > 1:
        problems.append(Problem(None, "period", "every row must have the same period"))
    if hit == "UNIQUE" and not problems:  # a cell that did not parse would overlap everything
        for i, a in enumerate(rules):
            for b in rules[i + 1 :]:
                if a.tests and all(feel.overlaps(x, y) for x, y in zip(a.tests, b.tests, strict=True)):
                    problems.append(
                        Problem(
                            b.row,
                            "",
                            f"overlaps row {a.row}: one subject could match both (hit policy UNIQUE)",
                        )
                    )
    if problems:
        raise PolicyInvalid(problems)
    assert kind is not None
    return PolicyTable(
        code=decision.id,
        name=decision.name or decision.id,
        hit_policy=hit,
        inputs=tuple(inputs),
        input_labels=tuple(labels),
        rules=tuple(rules),
        subject_kind=kind,
        period_unit=str(next(iter(periods))),
        xml=xml,
    )


def _rule(
    r: Any,
    inputs: list[str],
    labels: list[str],
    outputs: list[str],
    kind: str | None,
    problems: list[Problem],
) -> Rule:
    row = r.row_number
    tests: list[feel.Test] = []
    if len(r.inputEntries) != len(inputs):
        problems.append(Problem(row, "", f"has {len(r.inputEntries)} input cells for {len(inputs)} inputs"))
    for entry, name, label in zip(r.inputEntries, inputs, labels, strict=False):
        text = entry.lhs[0] if entry.lhs else None
        try:
            test = feel.parse(text)
        except feel.FeelError as exc:
            problems.append(Problem(row, label, f"{text!r}: {exc}"))
            test = feel.Test(text=text or "-", anything=True)
        fact = FACTS.get(kind or "", {}).get(name)
        if fact is not None and test.kinds() and test.kinds() != {fact.kind}:
            problems.append(
                Problem(
                    row, label, f"{text!r} tests {'/'.join(sorted(test.kinds()))} but {name} is a {fact.kind}"
                )
            )
        tests.append(test)
    values: dict[str, Any] = {}
    for entry, name in zip(r.outputEntries, outputs, strict=False):
        text = (entry.text or "").strip()
        if not text:
            continue
        try:
            p = feel._Parser(text)
            value = p.literal()
            if p.peek() is not None:
                raise feel.FeelError(f"unexpected {p.peek()[1]!r}")  # type: ignore[index]
        except feel.FeelError as exc:
            problems.append(Problem(row, name, f"{text!r}: {exc}"))
            continue
        values[name] = value
    _check_outputs(row, values, kind, problems)
    label = (r.description or "").strip() or f"row {row}"
    return Rule(row=row, tests=tuple(tests), outputs=values, label=label)


def _check_outputs(row: int, v: dict[str, Any], kind: str | None, problems: list[Problem]) -> None:
    period = v.get("period")
    if period not in PERIOD_UNITS:
        problems.append(Problem(row, "period", f"{period!r} is not one of {', '.join(PERIOD_UNITS)}"))
    if "amount_fen" in v:
        a = v["amount_fen"]
        if isinstance(a, bool) or not isinstance(a, float) or a < 0 or a != int(a):
            problems.append(Problem(row, "amount_fen", f"{a!r} is not a whole, non-negative number of fen"))
        else:
            v["amount_fen"] = int(a)
        if "share_percent" in v:
            problems.append(Problem(row, "share_percent", "give amount_fen or share_percent, not both"))
        return
    share, base = v.get("share_percent"), v.get("base")
    if share is None:
        problems.append(Problem(row, "amount_fen", "the row grants no amount (amount_fen or share_percent)"))
        return
    if isinstance(share, bool) or not isinstance(share, float) or not 0 <= share <= 100:
        problems.append(Problem(row, "share_percent", f"{share!r} is not a percentage between 0 and 100"))
    fact = FACTS.get(kind or "", {}).get(base) if isinstance(base, str) else None
    if fact is None or fact.kind != feel.NUMBER:
        problems.append(Problem(row, "base", f"{base!r} is not a number fact the share can be taken of"))


def digest_of(xml: str) -> str:
    return hashlib.sha256(xml.encode("utf-8")).hexdigest()


# --- SpiffWorkflow's own evaluation (the reference the SQL is checked against) -------------------------


class _Workflow:
    script_engine = PythonScriptEngine()


class _Task:
    workflow = _Workflow()

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data


class SpiffEvaluator:
    """Evaluates a policy table row by row with SpiffWorkflow's ``DMNEngine``.

    The FEEL cells are handed to SpiffWorkflow in its Python unary-test dialect (``feel.to_spiff``);
    the engine, not haoban, decides which rows hold. Slow (Python per subject): tests and single checks.
    """

    def __init__(self, policy: PolicyTable) -> None:
        self.policy = policy
        _decision, table = _spiff_table(policy.xml)
        for spiff_rule, rule in zip(table.rules, policy.rules, strict=True):
            for entry, test in zip(spiff_rule.inputEntries, rule.tests, strict=True):
                entry.lhs = [feel.to_spiff(test)]
        self.engine = DMNEngine(table)

    def rows(self, facts: dict[str, Any]) -> list[int]:
        data = {name: facts.get(name) for name in self.policy.inputs}
        return [r.row_number for r in self.engine.decide(_Task(data))]
