"""The expression subset: what it refuses, what it evaluates, and that nothing reaches Python internals."""

from __future__ import annotations

import pytest

from haoban.bundles.expressions import CONDITION_FUNCTIONS, Reference, check_expression, evaluate
from haoban.bundles.forms import is_cn_resident_id


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('id')",
        "form.__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "[x for x in form]",
        "lambda: 1",
        "2 ** 100000",
        "open('/etc/passwd')",
        "eval('1')",
        "globals()",
        "field(form)",
        "",
        "form[",
    ],
)
def test_dangerous_or_broken_expressions_are_refused(text):
    tree, _refs, problem = check_expression(text, functions=CONDITION_FUNCTIONS)
    assert tree is None and problem is not None and problem.zh and problem.en


def test_references_are_reported_for_static_checks():
    _tree, refs, problem = check_expression(
        'form["cargo"]["class"] in ("I", "II") and result("accept", "case_no") != None and field("a.b")',
        functions=CONDITION_FUNCTIONS,
    )
    assert problem is None
    assert set(refs) == {
        Reference("form", ("cargo", "class")),
        Reference("results", ("accept", "case_no")),
        Reference("form", ("a", "b")),
    }


def test_evaluation_sees_only_the_data_it_is_given():
    tree, _refs, _problem = check_expression(
        'form["a"]["b"] > 2 and results["t"]["k"] == "x" and len(materials) == 1 and field("a.c") is None',
        functions=CONDITION_FUNCTIONS,
    )
    assert evaluate(tree, form={"a": {"b": 3}}, results={"t": {"k": "x"}}, materials={"m": "ref"}) is True
    assert evaluate(tree, form={"a": {"b": 1}}, results={"t": {"k": "x"}}, materials={"m": "ref"}) is False


def test_resident_id_check_digit():
    assert is_cn_resident_id("430405199001011233")
    assert not is_cn_resident_id("430405199001011234")
    assert not is_cn_resident_id("430405199002301233")  # 30 February
    assert is_cn_resident_id("11010519491231002x")
