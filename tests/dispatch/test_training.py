from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from haoban.dispatch import text as textmod
from haoban.dispatch.classifier import TextClassifier
from haoban.dispatch.training import (
    Example,
    LabelledFileError,
    choose_threshold,
    deduplicate,
    load_labelled_file,
    similar_pairs,
    train,
)

from .conftest import EVAL_SMALL, TRAIN_SMALL

NOVEL = "龘龘鑫淼"  # a "word" the base data has never seen


def test_corrections_change_the_next_training(small_model: TextClassifier) -> None:
    probe = f"关于{NOVEL}的问题，请尽快处理{NOVEL}"
    before = small_model.predict(probe).label
    target = next(lab for lab in small_model.labels if lab != before)
    extra = [
        (f"{NOVEL}严重影响生活", target, 2.0),
        (f"投诉{NOVEL}没人管", target, 2.0),
        (f"{NOVEL}什么时候能解决？", target, 2.0),
        (f"建议整治{NOVEL}", target, 2.0),
    ]
    retrained = train(data_files=[TRAIN_SMALL], extra_examples=extra, seed=0)
    assert retrained.predict(probe).label == target
    assert retrained.metadata["data"]["extra_examples"] == 4
    assert retrained.metadata["training_data_sha256"] != small_model.metadata["training_data_sha256"]


def test_a_correction_replaces_its_near_duplicate_in_the_base() -> None:
    base = [Example("小区门口的路灯坏了很久，晚上出行很不方便，请尽快修理", "城乡建设")]
    other = [Example("公司拖欠工资半年，社保也没有缴纳，请劳动部门处理", "劳动和社会保障")]
    fix = Example("小区门口的路灯坏了很久，晚上出行很不方便，请尽快修理！", "交通运输", 2.0, extra=True)
    later = Example("小区门口的路灯坏了很久,晚上出行很不方便,请尽快修理", "环境保护", 2.0, extra=True)
    examples = base + other + [fix, later]
    prepared = [textmod.prepare(e.text) for e in examples]
    keep = deduplicate(examples, similar_pairs(prepared, 0.5))
    # The later correction wins over the earlier one and over the base row.
    assert keep == [1, 3]


def test_presegmented_copy_of_a_raw_message_is_dropped() -> None:
    raw = Example("A市西湖建筑集团占道施工有安全隐患，人行道包括路灯杆被圈进施工围墙内", "城乡建设")
    seg = Example("市 西湖 建筑 集团 占 道 施工 安全隐患 人行道 包括 路灯 杆 圈 施工 围墙", "城乡建设")
    examples = [seg, raw]
    prepared = [textmod.prepare(e.text) for e in examples]
    assert deduplicate(examples, similar_pairs(prepared, 0.5)) == [1]


def test_train_metadata(small_model: TextClassifier) -> None:
    meta = small_model.metadata
    assert meta["data"]["files"] == ["train_small.csv"]
    assert meta["data"]["rows_read"] == 203
    assert 0 < meta["metrics"]["cv_macro_f1"] <= 1
    assert 0 <= small_model.threshold <= 1
    assert meta["version"] == meta["model_version"]


def test_bad_extra_examples_are_rejected() -> None:
    with pytest.raises(ValueError, match="weight"):
        train(data_files=[TRAIN_SMALL], extra_examples=[("文本", "城乡建设", 0.0)])
    with pytest.raises(ValueError, match="label"):
        train(data_files=[TRAIN_SMALL], extra_examples=[("文本", " ", 1.0)])


def test_choose_threshold() -> None:
    conf = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, False, True, False])
    t, share, precision = choose_threshold(conf, correct, target=0.75)
    assert t == 0.7 and share == 5 / 6 and precision == 0.8
    assert choose_threshold(conf, correct, target=1.0)[0] == 0.9
    assert choose_threshold(conf, np.zeros(6, dtype=bool), target=0.97) == (1.0, 0.0, None)
    # Ties: the cut never falls inside a run of equal confidences.
    t, share, _ = choose_threshold(np.array([0.9, 0.8, 0.8]), np.array([True, True, False]), target=0.9)
    assert t == 0.9 and share == 1 / 3


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_load_labelled_file_formats(tmp_path: Path) -> None:
    rows = load_labelled_file(TRAIN_SMALL)
    assert len(rows) == 203 and all(t and lab for t, lab in rows)
    fields = load_labelled_file(EVAL_SMALL)
    assert len(fields) == 56
    chinese = _write_csv(
        tmp_path / "zh.csv",
        ["留言主题", "留言详情", "一级分类"],
        [["主题", "详情", "城乡建设"], ["", "", ""]],
    )
    assert load_labelled_file(chinese) == [("主题详情", "城乡建设")]

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Text", "Label"])
    ws.append(["公交线路不合理", "交通运输"])
    ws.append([None, None])
    wb.save(tmp_path / "rows.xlsx")
    assert load_labelled_file(tmp_path / "rows.xlsx") == [("公交线路不合理", "交通运输")]


def test_load_labelled_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        load_labelled_file(tmp_path / "missing.csv")
    wrong = _write_csv(tmp_path / "wrong.csv", ["message", "category_name"], [["x", "y"]])
    with pytest.raises(
        LabelledFileError,
        match=r"needs columns 'text,label' or 'subject,detail,label'; found: message, category_name",
    ):
        load_labelled_file(wrong)
    no_label = _write_csv(tmp_path / "nolabel.csv", ["text", "label"], [["有文本", ""]])
    with pytest.raises(LabelledFileError, match="row 2 has text but no label"):
        load_labelled_file(no_label)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(LabelledFileError, match="empty"):
        load_labelled_file(empty)
    only_header = _write_csv(tmp_path / "header.csv", ["text", "label"], [])
    with pytest.raises(LabelledFileError, match="no labelled rows"):
        load_labelled_file(only_header)
    other = tmp_path / "rows.json"
    other.write_text("[]", encoding="utf-8")
    with pytest.raises(LabelledFileError, match="unsupported file type"):
        load_labelled_file(other)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("text,label\n停车难,城乡建设\n".encode("gb18030"))
    assert load_labelled_file(gbk) == [("停车难", "城乡建设")]
