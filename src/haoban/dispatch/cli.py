"""`haoban dispatch …`: train, evaluate and explain the dispatch classifier.

Two hooks are left for the application to set (this package imports no database):
`extra_examples_provider` returns stored operators' corrections for `train`, and `explain_router`
returns the catalogue rule and department for `explain`.

Exit code 2 and a message on stderr for bad input (missing file, wrong columns, unusable model).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from haoban.config import get_settings
from haoban.dispatch.classifier import (
    ModelLoadError,
    Prediction,
    TextClassifier,
    default_model_path,
)
from haoban.dispatch.gazetteer import DistrictMatch, find_district
from haoban.dispatch.training import (
    CORRECTION_WEIGHT,
    LabelledFileError,
    load_default,
    load_labelled_file,
)

# Set by the application: (text, prediction, district) → {"rule", "department", "why"}.
explain_router: Callable[[str, Prediction, DistrictMatch | None], dict[str, Any]] | None = None
# Set by the application: stored corrections as (text, label, weight) for `train`.
extra_examples_provider: Callable[[], list[tuple[str, str, float]]] | None = None

app = typer.Typer(
    help="The dispatch classifier: train it, evaluate it, explain a decision.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True, soft_wrap=True)  # error messages stay on one line (greppable)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


def _load_model(model: Path | None) -> TextClassifier:
    try:
        if model is not None:
            return TextClassifier.load(model)
        data_dir = get_settings().data_dir
        if not default_model_path(data_dir).is_file():
            err.print("no shipped model: training one from the shipped data (about a minute)…")
        return load_default(train_if_missing=True, data_dir=data_dir)
    except ModelLoadError as exc:
        raise _fail(str(exc)) from exc


def _read(path: Path) -> list[tuple[str, str]]:
    try:
        return load_labelled_file(path)
    except (FileNotFoundError, LabelledFileError) as exc:
        raise _fail(str(exc)) from exc


@app.command()
def train(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="Labelled CSV/XLSX (text,label or subject,detail,label); repeatable. "
            "Default: the shipped TipDM files.",
        ),
    ] = None,
    extra: Annotated[
        list[Path] | None,
        typer.Option("--extra", help="More labelled files added on top of the base data (weight 1)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Artifact path (default: the shipped model).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    corrections: Annotated[
        bool, typer.Option("--corrections/--no-corrections", help="Add stored operators' corrections.")
    ] = True,
) -> None:
    """Train a model, print its cross-validated metrics and threshold, save it."""
    from haoban.dispatch.training import train as train_model

    for path in [*(data or []), *(extra or [])]:
        if not path.is_file():
            raise _fail(f"labelled file not found: {path}")
    extra_examples: list[tuple[str, str, float]] = []
    for path in extra or []:
        extra_examples += [(t, lab, 1.0) for t, lab in _read(path)]
    if corrections and extra_examples_provider is not None:
        stored = extra_examples_provider()
        err.print(f"{len(stored)} stored corrections added (weight {CORRECTION_WEIGHT:g} suggested)")
        extra_examples += stored
    target = output or default_model_path(get_settings().data_dir)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("training", total=None)
        try:
            clf = train_model(
                data_files=data or None,
                extra_examples=extra_examples,
                seed=seed,
                progress=lambda msg: bar.update(task, description=msg),
                data_dir=get_settings().data_dir,
            )
        except (FileNotFoundError, LabelledFileError, ValueError) as exc:
            raise _fail(str(exc)) from exc
    try:
        clf.save(target)
    except OSError as exc:
        raise _fail(f"cannot write {target}: {exc}") from exc
    _print_training_summary(clf, target)


def _print_training_summary(clf: TextClassifier, target: Path) -> None:
    meta = clf.metadata
    m = meta["metrics"]
    d = meta["data"]
    table = Table(title=f"dispatch model {meta['model_version']}", show_header=False)
    rows = [
        (
            "examples (after removing near-duplicates)",
            f"{d['examples']} ({d['near_duplicates_removed']} removed)",
        ),
        ("extra examples", str(d["extra_examples"])),
        (f"cross-validated macro-F1 ({m['cv_folds']} folds, grouped)", f"{m['cv_macro_f1']:.4f}"),
        ("cross-validated accuracy", f"{m['cv_accuracy']:.4f}"),
    ]
    if "cv_raw_macro_f1" in m:
        rows.append((f"macro-F1 on raw-text rows ({m['cv_raw_rows']})", f"{m['cv_raw_macro_f1']:.4f}"))
    precision = m["auto_dispatch_precision"]
    rows += [
        (f"confidence threshold (precision ≥ {m['target_precision']:.0%})", f"{clf.threshold:.3f}"),
        (
            "auto-dispatched at the threshold",
            f"{m['auto_dispatch_share']:.1%}"
            + (f" (precision {precision:.4f})" if precision is not None else ""),
        ),
        ("training time", f"{meta['training_seconds']} s"),
        ("saved to", str(target)),
    ]
    for k, v in rows:
        table.add_row(k, v)
    out.print(table)
    out.print(_class_table(m["cv_per_class"], "cross-validated, per label"))


def _class_table(per_class: dict[str, dict[str, float]], title: str) -> Table:
    table = Table(title=title)
    for col in ("label", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "label" else "right")
    for label, s in per_class.items():
        table.add_row(
            label, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"])
        )
    return table


def _catalogue_departments() -> dict[str, str]:
    """Label → department: the shipped catalogue's category-only dispatch rules (demo/city.yaml)."""
    import yaml

    from haoban import demo

    city = yaml.safe_load((Path(demo.__file__).parent / "city.yaml").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for r in city.get("rules", []):
        if (
            r.get("category_code")
            and r.get("department_code")
            and not r.get("keywords")
            and not r.get("district_code")
        ):
            out.setdefault(r["category_code"], r["department_code"])
    return out


@app.command()
def evaluate(
    data: Annotated[Path | None, typer.Option("--data", help="Labelled CSV/XLSX to evaluate on.")] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Artifact (default: the shipped model).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out",
            help="Instead of --data: grouped cross-validation on the shipped raw-text rows, each fold "
            "scored by a model trained without it (and without its near-copies). Takes minutes.",
        ),
    ] = False,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds for --held-out.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Fold seed for --held-out.")] = 0,
) -> None:
    """Accuracy, macro-F1, department top-1/top-3, per-label P/R/F1, confusion matrix and latency on
    labelled data (--data: in-sample if the shipped model was trained on it), or on held-out folds of
    the shipped data (--held-out)."""
    from haoban.dispatch.evaluation import evaluate as run_evaluation

    if held_out == (data is not None):
        err.print(
            "give --data FILE (labelled rows) or --held-out (the shipped data's held-out folds), not both"
        )
        raise typer.Exit(2)
    if data is None:
        _evaluate_held_out(folds=folds, seed=seed, as_json=as_json)
        return
    rows = _read(data)
    clf = _load_model(model)
    result = run_evaluation(clf, rows, label_departments=_catalogue_departments())
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    if result["n_scored"] == 0:
        out.print(f"{result['n']} rows, none with a label the model knows: {result['unknown_labels']}")
        return
    out.print(
        f"model {result['model_version']} on {data.name}: {result['n_scored']} rows scored"
        + (f", {result['n'] - result['n_scored']} with unknown labels" if result["unknown_labels"] else "")
    )
    out.print(f"accuracy {result['accuracy']:.4f}   macro-F1 {result['macro_f1']:.4f}")
    if result.get("dept_top1") is not None:
        out.print(
            f"department (category → department through the catalogue): top-1 {result['dept_top1']:.4f}   "
            f"top-3 {result['dept_top3']:.4f}   ({result['dept_n']} rows, {result['dept_unrouted']} unrouted)"
        )
    share, precision = result["auto_dispatch_share"], result["auto_dispatch_precision"]
    out.print(
        f"auto-dispatched at threshold {result['threshold']:.3f}: {share:.1%}"
        + (f" (precision {precision:.4f})" if precision is not None else "")
    )
    out.print(f"latency per message: p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms")
    out.print(_class_table(result["per_class"], "per label"))
    labels = result["confusion"]["labels"]
    # Numbered columns keep the matrix readable in 80 columns; rows carry the names.
    confusion = Table(title="confusion (rows: true, columns: predicted)")
    confusion.add_column("")
    for i in range(1, len(labels) + 1):
        confusion.add_column(str(i), justify="right")
    for i, (label, row) in enumerate(zip(labels, result["confusion"]["matrix"], strict=True), start=1):
        confusion.add_row(f"{i} {label}", *map(str, row))
    out.print(confusion)
    if result["unknown_labels"]:
        out.print(f"unknown labels (not scored): {result['unknown_labels']}")


def _evaluate_held_out(*, folds: int, seed: int, as_json: bool) -> None:
    from haoban.dispatch.evaluation import held_out_predictions, held_out_scores

    say = (lambda _m: None) if as_json else (lambda m: err.print(m))
    result = held_out_scores(
        held_out_predictions(folds=folds, seed=seed, progress=say), label_departments=_catalogue_departments()
    )
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    out.print(
        f"held out: {result['n']} raw-text rows in {folds} grouped folds (seed {seed}), none trained on"
    )
    out.print(
        f"accuracy {result['accuracy']:.4f}   macro-F1 {result['macro_f1']:.4f} "
        f"(folds {result['fold_mean']:.4f} ± {result['fold_sd']:.4f})   top-3 {result['top3_accuracy']:.4f}"
    )
    if result.get("dept_top1") is not None:
        out.print(
            f"department (category → department through the catalogue): top-1 {result['dept_top1']:.4f}   "
            f"top-3 {result['dept_top3']:.4f}   ({result['dept_n']} rows, {result['dept_unrouted']} unrouted)"
        )
    precision = result["auto_precision"]
    out.print(
        f"auto-dispatched at each fold's threshold: {result['auto_share']:.1%}"
        + (f" (precision {precision:.4f})" if precision is not None else "")
    )
    for line in result["folds"]:
        out.print(f"  {line}")


@app.command()
def explain(
    text: Annotated[str, typer.Argument(help="The message (subject + detail).")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Artifact (default: the shipped model).")
    ] = None,
) -> None:
    """Top-3 labels with probabilities, the district found, and the routing decision."""
    clf = _load_model(model)
    prediction = clf.predict(text)
    out.print(f"model {clf.metadata.get('model_version')}, threshold {clf.threshold:.3f}")
    for i, s in enumerate(prediction.suggestions, start=1):
        out.print(f"  {i}. {s.label}  {s.probability:.3f}")
    verdict = (
        "confident: dispatch automatically" if prediction.confident else "not confident: a human dispatches"
    )
    out.print(verdict + (f" ({prediction.reason})" if prediction.reason else ""))
    district = find_district(text)
    out.print(
        f"district: {district.district} (found “{district.surface}”)"
        if district
        else "district: (none found)"
    )
    if explain_router is None:
        out.print("routing: (catalogue not configured)")
        return
    try:
        route = explain_router(text, prediction, district)
    except Exception as exc:  # routing is advisory here; the classification above still stands
        err.print(f"routing failed: {exc.__class__.__name__}: {exc}")
        return
    out.print(f"routing: rule {route.get('rule')} → department {route.get('department')}")
    if route.get("why"):
        out.print(f"why: {route['why']}")


if __name__ == "__main__":
    app()
