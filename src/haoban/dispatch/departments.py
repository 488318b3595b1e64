"""Department candidates: every active department, the likeliest first, each with a score and a reason.

The console and the queue pre-select the first one and order their pickers with the list. The signals,
strongest first:

1. the router's own decision (what registration would do now: first matching catalogue rule);
2. every other dispatch rule that matches the text (its keywords, district, type, hours), weighted down
   by its place after the first match;
3. the category guesses of the dispatch model (or the operator's category), each routed through the
   catalogue's category rules, weighted by the guess's probability;
4. co-handlers named by a matching rule;
then every other active department with score 0, in name order, so the list holds each exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from haoban.dispatch.routing import (
    CatalogueRouter,
    CategoryGuess,
    DispatchDecision,
    DispatchRequest,
    RuleSpec,
)

# How much a signal counts; the router's decision always outranks the rest.
DECISION = 1.0
OTHER_RULE = 0.5  # another keyword rule that matches, too
CO_HANDLER = 0.1


@dataclass(frozen=True)
class DepartmentCandidate:
    code: str
    score: float
    reason: str


def active_departments(directory: Any) -> list[tuple[str, str]]:
    """(code, name) of the directory's active departments: what the pickers offer."""
    return [(d.code, d.name) for d in directory.departments_by_id.values() if d.active]


def _text(request: DispatchRequest) -> str:
    return f"{request.subject}\n{request.content}\n{request.address or ''}"


def _guesses(request: DispatchRequest, decision: DispatchDecision | None) -> list[tuple[str, float]]:
    """(category code, probability): the operator's category, else the model's suggestions."""
    if request.category_code:
        return [(request.category_code, 1.0)]
    out: list[tuple[str, float]] = []
    for s in decision.suggestions if decision else ():
        code, p = s.get("category"), s.get("probability")
        if isinstance(code, str) and isinstance(p, int | float):
            out.append((code, float(p)))
    if not out and decision and decision.category_code:
        out.append((decision.category_code, float(decision.confidence or 0.0)))
    return out


def _first_category_rule(
    rules: Sequence[RuleSpec], request: DispatchRequest, chain: Sequence[str], router: CatalogueRouter
) -> RuleSpec | None:
    text = _text(request)
    for rule in rules:
        if (
            rule.outcome == "dispatch"
            and rule.category_code
            and rule.department_code
            and rule.why_not(request, category_chain=chain, text=text, tz=router.tz) is None
        ):
            return rule
    return None


def department_candidates(
    *,
    router: CatalogueRouter,
    departments: Iterable[tuple[str, str]],
    request: DispatchRequest,
    decision: DispatchDecision | None = None,
) -> list[DepartmentCandidate]:
    """Rank ``departments`` ((code, name) of the active ones) for ``request``; each appears once.

    ``decision`` is the router's decision for the request (computed when not given); its category
    suggestions are reused so the model runs once.
    """
    if decision is None:
        decision = router.decide(request)
    known = dict(departments)
    found: dict[str, DepartmentCandidate] = {}

    def add(code: str | None, score: float, reason: str) -> None:
        if not code or code not in known or score <= 0:
            return
        had = found.get(code)
        if had is None:
            found[code] = DepartmentCandidate(code, score, reason)
        elif reason not in had.reason:  # signals add up; the strongest one's reason first
            reasons = f"{reason}; {had.reason}" if score > had.score else f"{had.reason}; {reason}"
            found[code] = replace(had, score=had.score + score, reason=reasons)
        else:
            found[code] = replace(had, score=had.score + score)

    if decision.outcome in ("dispatch", "hold") and decision.department_code:
        add(decision.department_code, DECISION, decision.reason or "the catalogue routes here")
    for code in decision.co_handler_codes:
        add(code, CO_HANDLER, f"co-handler of rule {decision.rule_name!r}")

    # Other dispatch rules matching the text (keywords, district, type, hours), after the first match.
    text = _text(request)
    guesses = _guesses(request, decision)
    top_chain = router.category_chains.get(guesses[0][0], (guesses[0][0],)) if guesses else ()
    rank = 0
    for rule in router.rules:
        if rule.outcome != "dispatch" or not rule.department_code or rule.id == decision.rule_id:
            continue
        if not rule.keywords and not rule.district_code:
            continue  # category-only rules are weighed with the category guesses below
        if rule.why_not(request, category_chain=top_chain, text=text, tz=router.tz) is not None:
            continue
        rank += 1
        hits = [k for k in rule.keywords if k in text]
        why = f"rule #{rule.position} {rule.name!r} also matches" + (f" ({'、'.join(hits)})" if hits else "")
        add(rule.department_code, OTHER_RULE / rank, why)
        for code in rule.co_handler_codes:
            add(code, CO_HANDLER / rank, f"co-handler of rule {rule.name!r}")

    # The model's (or operator's) categories, each through the catalogue's category rules.
    for category, p in guesses:
        chain = router.category_chains.get(category, (category,))
        rule = _first_category_rule(router.rules, request, chain, router)
        if rule is not None:
            add(rule.department_code, p * OTHER_RULE, f"category {category} ({p:.0%}) → rule {rule.name!r}")

    ranked = sorted(found.values(), key=lambda c: (-c.score, known[c.code], c.code))
    rest = sorted((c for c in known if c not in found), key=lambda c: (known[c], c))
    return ranked + [DepartmentCandidate(c, 0.0, "") for c in rest]


def candidates_for_stored(
    *,
    router: CatalogueRouter,
    departments: Iterable[tuple[str, str]],
    request: DispatchRequest,
    suggestions: Sequence[dict[str, Any]] = (),
) -> list[DepartmentCandidate]:
    """The same ranking for an order already registered: its stored category suggestions stand in for
    the model (a queue page ranks twenty orders without running the classifier twenty times)."""
    guesses = [
        CategoryGuess(str(s["category"]), float(s.get("probability") or 0.0), str(s.get("label") or ""))
        for s in suggestions
        if s.get("category")
    ]
    stored = replace(router, classify=lambda _text: (guesses, True))
    return department_candidates(router=stored, departments=departments, request=request)
