"""Knowledge-base search: paraphrases, validity, departments, incremental updates, reply cleaning."""

from __future__ import annotations

from datetime import date

import pytest

from haoban.knowledge.search import Article, Hit, KnowledgeIndex, articles_from_replies, clean_reply

TODAY = date(2024, 6, 1)

ARTICLES = [
    Article(
        1,
        "公积金贷款需要什么材料",
        "申请住房公积金贷款需提供身份证、户口本、婚姻证明、购房合同和首付款发票。"
        "请携带上述材料到市住房公积金管理中心办理，咨询电话12329。",
        department="住房公积金管理中心",
        tags=("公积金", "贷款"),
    ),
    Article(
        2,
        "公积金如何提取",
        "离职、退休或购房时可申请提取住房公积金，需携带身份证和相关证明。",
        department="住房公积金管理中心",
    ),
    Article(3, "商业贷款利率是多少", "商业银行个人住房贷款利率以各银行公布为准。", department="金融办"),
    Article(
        4,
        "小孩上小学需要哪些入学材料",
        "适龄儿童入学需提供户口簿、房产证明和预防接种证。",
        department="教育局",
    ),
    Article(5, "噪音扰民怎么投诉", "夜间施工噪音可拨打12345或向生态环境部门投诉。", department="生态环境局"),
    Article(6, "养老保险怎么补缴", "灵活就业人员可到社保经办机构补缴养老保险。", department="人社局"),
]


def _index() -> KnowledgeIndex:
    return KnowledgeIndex(ARTICLES)


def test_paraphrase_finds_the_article() -> None:
    hits = _index().search("用住房公积金买房贷款要带哪些证件", today=TODAY)
    assert hits and hits[0].article_id == 1
    assert all(isinstance(h, Hit) and h.score > 0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("孩子读小学要准备什么资料", 4),
        ("晚上工地施工噪声太吵去哪投诉", 5),
        ("社会保险断缴了能补交吗", 6),
        ("怎么把公积金取出来", 2),
    ],
)
def test_more_paraphrases(query: str, expected: int) -> None:
    assert _index().search(query, today=TODAY)[0].article_id == expected


def test_snippet_is_the_matching_sentence() -> None:
    hit = _index().search("公积金贷款 咨询电话", today=TODAY)[0]
    assert hit.article_id == 1
    assert "12329" in hit.snippet
    long = Article(9, "测试长答案", "公积金" + "很长的内容" * 100)
    ix = KnowledgeIndex([long])
    assert len(ix.search("公积金", today=TODAY)[0].snippet) <= 120


def test_expired_and_future_articles_are_never_returned() -> None:
    ix = KnowledgeIndex(
        [
            Article(10, "公积金贷款需要什么材料", "旧政策：需要单位证明。", valid_to=date(2024, 5, 31)),
            Article(11, "公积金贷款需要什么材料", "新政策：只需身份证。", valid_from=date(2024, 6, 2)),
            Article(12, "公积金贷款需要什么材料", "现行：身份证和合同。", valid_from=TODAY, valid_to=TODAY),
        ]
    )
    assert [h.article_id for h in ix.search("公积金贷款材料", today=TODAY)] == [12]
    assert [h.article_id for h in ix.search("公积金贷款材料", today=date(2024, 5, 31))] == [10]
    assert [h.article_id for h in ix.search("公积金贷款材料", today=date(2024, 6, 2))] == [11]


def test_department_filter_and_limit() -> None:
    ix = _index()
    hits = ix.search("贷款", today=TODAY, department="金融办")
    assert [h.article_id for h in hits] == [3]
    assert ix.search("贷款", today=TODAY, department="不存在的部门") == []
    assert len(ix.search("公积金", today=TODAY, limit=1)) == 1
    assert ix.search("公积金", today=TODAY, limit=0) == []
    assert ix.search("", today=TODAY) == []
    assert ix.search("！！！", today=TODAY) == []
    assert ix.search("火星探测器发射", today=TODAY) == []


def test_incremental_add_remove_replace() -> None:
    ix = KnowledgeIndex()
    assert ix.search("公积金", today=TODAY) == []
    ix.add(ARTICLES[0])
    assert [h.article_id for h in ix.search("公积金", today=TODAY)] == [1]
    ix.add(ARTICLES[1])
    assert {h.article_id for h in ix.search("公积金", today=TODAY)} == {1, 2}
    ix.remove(1)
    ix.remove(999)
    assert [h.article_id for h in ix.search("公积金", today=TODAY)] == [2]
    assert len(ix) == 1 and 1 not in ix and ix.get(1) is None
    ix.add(Article(2, "居住证办理", "携带身份证到派出所办理居住证。"))
    assert ix.search("公积金", today=TODAY) == []
    assert [h.article_id for h in ix.search("居住证", today=TODAY)] == [2]
    assert ix.get(2) is not None and ix.get(2).question == "居住证办理"  # type: ignore[union-attr]


def test_many_removals_trigger_consistent_rebuilds() -> None:
    ix = KnowledgeIndex(Article(i, f"问题{i} 公积金", f"答案{i}") for i in range(50))
    ix.rebuild()
    for i in range(0, 50, 2):
        ix.remove(i)
        hits = ix.search("公积金", today=TODAY, limit=100)
        assert all(h.article_id % 2 == 1 or h.article_id > i for h in hits)
    assert {h.article_id for h in ix.search("公积金", today=TODAY, limit=100)} == set(range(1, 50, 2))


def test_clean_reply_strips_greeting_receipt_and_signoff() -> None:
    raw = (
        "网友“UU0081176”您好！您的留言已收悉，现将有关情况答复如下：经核查，该路段路灯已于4月16日修复。"
        "如有疑问请致电0731-12345678。感谢您对我们工作的关心、监督与支持。2019年4月18日"
    )
    assert clean_reply(raw) == "经核查，该路段路灯已于4月16日修复。如有疑问请致电0731-12345678。"
    assert clean_reply("1、根据方案明确。2、经查证属实。") == "1、根据方案明确。2、经查证属实。"
    assert clean_reply("尊敬的网友：您好！建议您直接向县教育局咨询。") == "建议您直接向县教育局咨询。"


def test_articles_from_replies() -> None:
    rows = [
        {
            "留言编号": "101",
            "留言主题": "咨询公积金贷款额度",
            "答复意见": (
                "网友：您好！公积金贷款最高额度为60万元，具体以缴存基数核定。感谢您的留言！2019年5月1日"
            ),
            "答复时间": "2019/5/2 10:00:00",
        },
        {
            "留言编号": "102",
            "留言主题": "路灯不亮",
            "答复意见": "网友：您好！留言已收悉",
            "答复时间": "2019/5/2 10:00:00",
        },
        {
            "留言编号": "103",
            "留言主题": "占道经营",
            "答复意见": "您的留言已收悉，已转A市城管局处理，请您耐心等待。",
        },
        {
            "留言编号": "x",
            "留言主题": "编号坏了",
            "答复意见": "这是一个很长很长的答复内容，说明了很多具体的政策规定。",
        },
    ]
    arts = articles_from_replies(rows)
    assert [a.id for a in arts] == [101]
    a = arts[0]
    assert a.question == "咨询公积金贷款额度"
    assert a.answer == "公积金贷款最高额度为60万元，具体以缴存基数核定。"
    assert a.valid_from == date(2019, 5, 2)
    assert "公积金" in a.tags
    ix = KnowledgeIndex(arts)
    assert ix.search("公积金能贷多少钱", today=TODAY)[0].article_id == 101


def test_default_day_is_today() -> None:
    ix = KnowledgeIndex(
        [
            Article(20, "公积金贷款材料", "过期。", valid_to=date(2000, 1, 1)),
            Article(21, "公积金贷款材料", "现行。"),
        ]
    )
    assert [h.article_id for h in ix.search("公积金贷款材料")] == [21]
