"""A self-contained static HTML report: tables and figures inlined, nothing fetched, opens offline."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path

from senn.evaluation.concept_quality import DCI_SCORES, ConceptQuality
from senn.evaluation.results import Evaluation, SpaceScore

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1.5em 0; } img { max-width: 100%; } figcaption { color: #555; font-size: 0.9em; }
code { background: #f3f3f3; padding: 1px 4px; }
table#like-for-like td:nth-child(2) { text-align: left; }
table#metrics td:nth-child(2) { white-space: nowrap; }
pre.explanation { background: #f7f7f7; padding: 0.6em; font-size: 0.85em; overflow-x: auto; }
"""


def metrics_table(evaluation: Evaluation) -> str:
    """The per-method table as HTML."""
    rows = [
        "<tr><th>method</th><th>explained model</th><th>faithfulness ↑</th>"
        "<th>stability, input mode ↓</th><th>stability, concept mode ↓</th><th>stability, gradient ascent ↓</th>"
        "<th>seconds</th></tr>"
    ]
    for method, m in evaluation.methods.items():
        rows.append(
            f"<tr><td>{html.escape(method)}</td><td>{m.performance()}</td><td>{m.faithfulness}</td><td>{m.stability}</td>"
            f"<td>{m.concept_stability or '–'}</td><td>{m.stability_gradient or '–'}</td><td>{m.seconds:.1f}</td></tr>"
        )
    return '<table id="metrics">' + "".join(rows) + "</table>"


def like_for_like_table(spaces: Mapping[str, Mapping[str, SpaceScore]]) -> str:
    """The like-for-like stability results (space -> explanation -> stability, the SENN's first) as HTML, with
    each explanation's ratio to the SENN's median in the same space."""
    rows = ["<tr><th>space</th><th>explanation</th><th>stability ↓</th><th>× the SENN's</th><th>seconds</th></tr>"]
    for space, methods in spaces.items():
        own = next(iter(methods.values())).stability.median
        for method, entry in methods.items():
            ratio = entry.stability.median / own if own > 0 else float("nan")
            seconds = "above" if entry.seconds is None else f"{entry.seconds:.1f}"  # the SENN's θ: timed above
            rows.append(
                f"<tr><td>{html.escape(space)}</td><td>{html.escape(method)}</td><td>{entry.stability}</td>"
                f"<td>{ratio:.3g}</td><td>{seconds}</td></tr>"
            )
    return '<table id="like-for-like">' + "".join(rows) + "</table>"


def concept_table(q: ConceptQuality) -> str:
    """The concept-quality numbers as HTML."""
    a, i = q.alignment, q.interventions
    matched = ", ".join(
        f"{html.escape(name)}: {html.escape(q.learned_names[k])} ({auc:.2f})"
        for name, k, auc in zip(q.concept_names, a.matching.tolist(), a.matched_auc.tolist())
    )
    d = [getattr(q.dci, name) if q.dci else float("nan") for name in DCI_SCORES]
    rows = [
        ("matched AUC, mean ↑ (per true concept: learned one, AUC)", f"{a.mean_auc:.3f}: {matched}"),
        ("oracle impurity OIS ↓", f"{q.oracle_impurity:.3f}"),
        ("niche impurity NIS ↓ (≈0.5: nothing leaks)", f"{q.niche_impurity:.3f}"),
        ("DCI disentanglement / completeness / informativeness ↑", " / ".join(f"{v:.3f}" for v in d)),
        ("completeness score ↑ (Yeh et al.)", f"{q.completeness:.3f}"),
        ("task accuracy, all true concepts set (random order)", f"{float(i.random[-1]):.3f}"),
        ("intervention area ↑ (random / most uncertain first)", f"{i.random_area:.3f} / {i.uncertain_first_area:.3f}"),
    ]
    body = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in rows)
    return f'<table id="concepts">{body}</table>'


def _image(path: Path) -> str:
    """An ``<img>`` with the PNG inlined as a data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(Path(path).stem)}">'


def write_report(
    path: str | Path, evaluation: Evaluation, figures: Mapping[str, Path], texts: Mapping[str, str] | None = None
) -> Path:
    """Write the evaluation report: settings, the metrics table, concept-collapse findings, every figure (with
    the text of ``texts[caption]`` beside it, e.g. an explanation as words)."""
    e, s, collapse = evaluation, evaluation.stability, evaluation.concept_collapse
    baseline = e.baseline_ckpt_path
    models = f"SENN <code>{html.escape(e.ckpt_path)}</code>"
    if baseline:
        models += f", post-hoc baselines on <code>{html.escape(baseline)}</code>"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>senn evaluation</title>",
        f"<style>{STYLE}</style></head><body><h1>SENN explanation quality</h1>",
        f"<p>{models}; {e.num_examples} {html.escape(e.split)} examples. Browse the explanations and steer the "
        "concepts in <a href='explorer.html'>explorer.html</a> (where it was written beside this report).</p>",
        "<h2>Metrics</h2>",
        "<p>Median [quartiles] over the examples. Faithfulness: Pearson correlation between relevance and the "
        "drop in the predicted class's probability (a regression model's output) when a concept (SENN) or a "
        "pixel group / feature (post-hoc) is removed. Stability: local Lipschitz estimate, max ‖e(x)−e(x′)‖ / "
        f"‖x−x′‖ over {s.budget} random points of the {s.norm} ball of radius {s.epsilon} (concept mode: "
        "‖θ(x)−θ(x′)‖ / ‖h(x)−h(x′)‖; gradient ascent: the same budget of projected ascent steps). Every "
        "estimate is a lower bound.</p>",
        metrics_table(e),
        f"<p>Stability normalization: <code>{html.escape(s.normalize)}</code>. The SENN's θ has K "
        "entries, a post-hoc attribution one per input feature: the table above compares different spaces "
        "(and, with a baseline, different models).</p>",
    ]
    if e.like_for_like:
        parts += [
            "<h2>Like-for-like stability (the same SENN, one space at a time)</h2>",
            "<p>Concept space: the SENN's θ against Captum's attributions to its concepts h. Input space: "
            "θ mapped to the input through the concepts' Jacobian (θᵀ J<sub>x</sub>h) against Captum's "
            "attributions to the input, all of the SENN's own logit. Same inputs, ball and budget as "
            "above.</p>",
            like_for_like_table(e.like_for_like),
        ]
    if e.concepts is not None:
        parts += ["<h2>Concepts against ground truth</h2>", concept_table(e.concepts)]
    if collapse is not None:
        dead = ", ".join(f"concept {k + 1}" for k in collapse.dead) or "none"
        pairs = collapse.duplicates
        duplicates = ", ".join(f"concepts {i + 1} and {j + 1} (correlation {r:.2f})" for i, j, r in pairs)
        parts.append(f"<p id='collapse'>Concept collapse check: dead {dead}; duplicated {duplicates or 'none'}.</p>")
    parts.append("<h2>Figures</h2>")
    for caption, figure in figures.items():
        text = (texts or {}).get(caption)
        words = f"<pre class='explanation'>{html.escape(text)}</pre>" if text else ""
        parts.append(f"<figure>{_image(figure)}{words}<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append("</body></html>")
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
