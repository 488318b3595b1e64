"""What 免申即享 hears from the domains below it.

``applications.birth_registered`` (after): when a newborn bundle (新生儿出生一件事) finishes, the
applications domain announces the birth with a step that has ``session`` and ``birth`` (a mapping of
``child_id_number``, ``child_name``, ``sex``, ``birth_date``, ``mother_id_number`` and optionally
``father_id_number``, ``hospital``, ``district``). The child joins the register and is matched at once
(``service.register_birth``, which any caller may also use directly).
"""

from __future__ import annotations

from haoban.benefits.service import on_birth
from haoban.runtime import Hooks

BIRTH_TOPIC = "applications.birth_registered"


def register(hooks: Hooks) -> None:
    hooks.after(BIRTH_TOPIC, on_birth)
