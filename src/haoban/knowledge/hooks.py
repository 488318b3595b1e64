"""How the knowledge base reacts to the orders domain, registered on the ``Runtime`` while wiring.

An ``answer`` that cites an article (``knowledge_article_id``) is refused (422) before anything is
written unless the article is published and valid on the day of the answer.
"""

from __future__ import annotations

from haoban.knowledge.service import check_citable
from haoban.orders.gate import Step
from haoban.runtime import Hooks


def check_citation(step: Step) -> None:
    cited = step.data.knowledge_article_id if step.data is not None else None
    if cited is not None:
        assert step.session is not None
        check_citable(step.session, article_id=cited, at=step.at)


def register(hooks: Hooks) -> None:
    hooks.before("orders.answer", check_citation)
