"""The ``Dispatcher`` interface and the catalogue (派单目录) router behind it.

On registration the order service asks a dispatcher for a decision: category, lead department,
co-handlers, a confidence, and what to do (dispatch, transfer an emergency, answer with guidance, or
hold for a person). The catalogue router matches ordered rules, first match wins; an optional text
classifier supplies the category when the operator did not choose one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol

from haoban.config import city_tz

# Where a call can be handed over at once: police, fire, ambulance, traffic police (转警/急救).
TRANSFER_TARGETS = ("110", "119", "120", "122")


@dataclass(frozen=True)
class DispatchRequest:
    subject: str
    content: str
    order_type: str
    received_at: datetime
    district_code: str | None = None
    address: str | None = None
    category_code: str | None = None  # chosen by the operator, if any


@dataclass(frozen=True)
class DispatchDecision:
    outcome: str  # dispatch / transfer / answer / hold
    category_code: str | None = None
    department_code: str | None = None
    co_handler_codes: tuple[str, ...] = ()
    confidence: float = 0.0
    source: str = "rule"  # rule / model / human
    rule_id: int | None = None
    rule_name: str | None = None
    transfer_target: str | None = None
    guidance: str | None = None
    suggestions: tuple[dict[str, object], ...] = ()
    reason: str = ""


class Dispatcher(Protocol):
    def decide(self, request: DispatchRequest) -> DispatchDecision: ...


@dataclass(frozen=True)
class RuleSpec:
    """A catalogue rule as the router sees it (a frozen copy of ``DispatchRule``)."""

    id: int
    position: int
    name: str
    outcome: str = "dispatch"
    category_code: str | None = None
    district_code: str | None = None
    order_type: str | None = None
    keywords: tuple[str, ...] = ()
    hour_from: int | None = None
    hour_to: int | None = None
    department_code: str | None = None
    co_handler_codes: tuple[str, ...] = ()
    transfer_target: str | None = None
    guidance: str | None = None

    def why_not(
        self, request: DispatchRequest, *, category_chain: Sequence[str], text: str, tz: tzinfo | None = None
    ) -> str | None:
        """None when the rule matches, else the first condition that failed (for ``explain``)."""
        if self.category_code and self.category_code not in category_chain:
            return f"category is not {self.category_code}"
        if self.district_code and request.district_code != self.district_code:
            return f"district is not {self.district_code}"
        if self.order_type and request.order_type != self.order_type:
            return f"type is not {self.order_type}"
        if self.keywords and not _any_in(text, self.keywords):
            return "no keyword found"
        if self.hour_from is not None and self.hour_to is not None:
            hour = request.received_at.astimezone(tz or city_tz()).hour  # the city's office hours
            inside = (
                self.hour_from <= hour < self.hour_to
                if self.hour_from <= self.hour_to
                else hour >= self.hour_from or hour < self.hour_to
            )
            if not inside:
                return f"outside {self.hour_from}:00–{self.hour_to}:00"
        return None


def _any_in(text: str, keywords: tuple[str, ...]) -> bool:
    # A plain loop, not any() over a generator: every create tries ~16 rules' keywords, and building
    # the generator cost more than the substring tests.
    for keyword in keywords:  # noqa: SIM110
        if keyword in text:
            return True
    return False


@dataclass(frozen=True)
class CategoryGuess:
    category_code: str
    probability: float
    label: str


@dataclass
class CatalogueRouter:
    """First-match router over the catalogue. ``classify`` may guess categories from the text."""

    rules: Sequence[RuleSpec]
    category_chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    classify: Callable[[str], tuple[list[CategoryGuess], bool]] | None = None
    version: int = 0
    tz: tzinfo | None = None  # the city's; rules with hours compare local hours

    def decide(self, request: DispatchRequest) -> DispatchDecision:
        text = f"{request.subject}\n{request.content}\n{request.address or ''}"
        guesses: list[CategoryGuess] = []
        confident = True
        category = request.category_code
        source = "rule"
        chain: Sequence[str] = self.category_chains.get(category, (category,)) if category else ()
        classified = category is not None or self.classify is None

        def suggestions() -> tuple[dict[str, object], ...]:
            return tuple(
                {"category": g.category_code, "label": g.label, "probability": round(g.probability, 4)}
                for g in guesses
            )

        for rule in self.rules:
            # The classifier runs only when a rule needs the category: keyword and emergency rules ahead
            # of the category rules decide most calls without it (the worker categorises those later).
            if rule.category_code and not classified:
                guesses, confident = self.classify(text)  # type: ignore[misc]
                classified = True
                if guesses:
                    category = guesses[0].category_code
                    source = "model"
                    chain = self.category_chains.get(category, (category,))
            if rule.why_not(request, category_chain=chain, text=text, tz=self.tz) is not None:
                continue
            # Keyword and emergency rules are certain; a category-only match is as sure as the category.
            certain = request.category_code is not None or bool(rule.keywords) or rule.outcome != "dispatch"
            confidence = 1.0 if certain else (guesses[0].probability if guesses else 0.0)
            outcome = rule.outcome
            reason = f"rule #{rule.position} {rule.name!r} matched"
            if outcome == "dispatch" and not certain and not confident:
                outcome = "hold"
                reason += "; the category guess is below the confidence threshold, a dispatcher decides"
            return DispatchDecision(
                outcome=outcome,
                category_code=category,
                department_code=rule.department_code,
                co_handler_codes=rule.co_handler_codes,
                confidence=confidence,
                source=source if rule.category_code and not request.category_code else "rule",
                rule_id=rule.id,
                rule_name=rule.name,
                transfer_target=rule.transfer_target,
                guidance=rule.guidance,
                suggestions=suggestions(),
                reason=reason,
            )
        if not classified:
            guesses, confident = self.classify(text)  # type: ignore[misc]
            category = guesses[0].category_code if guesses else None
            source = "model" if guesses else source
        return DispatchDecision(
            outcome="hold",
            category_code=category,
            confidence=guesses[0].probability if guesses else 0.0,
            source=source,
            suggestions=suggestions(),
            reason="no catalogue rule matched; a dispatcher decides",
        )

    def explain(self, request: DispatchRequest) -> list[tuple[RuleSpec, str | None]]:
        """Every rule with the reason it did not match (None for the matching one), up to the match."""
        text = f"{request.subject}\n{request.content}\n{request.address or ''}"
        category = request.category_code
        if category is None and self.classify is not None:
            guesses, _ = self.classify(text)
            category = guesses[0].category_code if guesses else None
        chain = self.category_chains.get(category, (category,)) if category else ()
        out: list[tuple[RuleSpec, str | None]] = []
        for rule in self.rules:
            why = rule.why_not(request, category_chain=chain, text=text, tz=self.tz)
            out.append((rule, why))
            if why is None:
                break
        return out
