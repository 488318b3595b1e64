"""Categories have English names (issue 13): the taxonomy's data file names every level, and the English
pages show them where the Chinese pages show the Chinese path."""

from __future__ import annotations

import csv
from typing import Any

from sqlalchemy import select

from haoban.directory.models import Category
from haoban.directory.service import CATEGORY_ENGLISH, category_english
from haoban.web import staff
from tests.builders import make_order
from tests.web.language import untranslated
from tests.web.test_pages_access import login


def test_every_category_of_the_taxonomy_has_an_english_name(rt: Any) -> None:
    folder = rt.settings.data_dir / "tipdm2020"
    english = category_english(folder / CATEGORY_ENGLISH)
    with (folder / "categories.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    names = {n.strip() for row in rows for n in row if n.strip()}
    assert names and names <= set(english), sorted(names - set(english))[:10]
    assert all(v.isascii() and v[0].isupper() for v in english.values())
    with rt.db.read() as session:
        codes = list(session.scalars(select(Category.code)))
    assert codes
    for code in codes:
        ref = rt.directory.category(code)
        assert ref.path_en and ref.path_en.count("/") == ref.path.count("/"), ref
        assert not untranslated(f"<p>{ref.label('en')}</p>", "en")
        assert ref.label("zh") == ref.path


def test_the_english_order_page_names_categories_in_english(client: Any, rt: Any) -> None:
    code = make_order(rt, status="signed")
    with rt.db.write() as session:
        from haoban.orders.models import Order

        order = session.scalars(select(Order).where(Order.code == code)).one()
        cat = session.scalars(select(Category).where(Category.path == "城乡建设/安全生产/事故处理")).one()
        order.category_id = cat.id
    login(client, "supervisor")
    en = client.get(f"/orders/{code}", params={"lang": "en"}).text
    assert "Urban and rural construction/Work safety/Accident handling" in en
    zh = client.get(f"/orders/{code}", params={"lang": "zh"}).text
    assert "城乡建设/安全生产/事故处理" in zh and "Urban and rural" not in zh
    assert (
        staff.category_name(rt, cat.code, "en")
        == "Urban and rural construction/Work safety/Accident handling"
    )
    assert staff.category_short(rt, cat.code, "en") == "Accident handling"
