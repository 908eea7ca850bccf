"""HTML evaluation reports: an Evaluation in, a self-contained folder (index.html, summary.json, outcomes.jsonl) out.

The page needs nothing from the network: styles are inline and pictures are embedded as data URIs,
so it can be mailed, archived or opened offline as one file.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path

import cv2
import numpy as np

from .errors import OutputExistsError
from .evaluation import Evaluation, EvaluationSummary, FailedImage, StateFigures, is_failure
from .files import write_atomically
from .metrics import GAP, Confusion, align_texts, character_confusions

# How many failures the gallery shows unless told otherwise: enough to see patterns, few enough for a small page.
DEFAULT_GALLERY = 60
# The confusion table lists this many of the most frequent pairs.
CONFUSIONS_SHOWN = 25
# A per-state table longer than this is split into side-by-side tables of about equal length.
STATES_PER_COLUMN = 18
# JPEG quality of embedded photos: thumbnails this small show no artefacts worth the extra bytes above it.
JPEG_QUALITY = 82

INDEX = "index.html"
SUMMARY = "summary.json"
OUTCOMES = "outcomes.jsonl"


@dataclass(frozen=True)
class ReportFiles:
    """The files one report consists of."""

    index: Path
    summary: Path
    outcomes: Path


def check_report_folder(folder: str | os.PathLike, force: bool = False) -> Path:
    """A report folder in, its index.html path out; OutputExistsError when a report is already there and not force."""
    index = Path(folder) / INDEX
    if index.exists() and not force:
        raise OutputExistsError(f"{index}: a report is already there (use --force to overwrite)")
    if Path(folder).exists() and not Path(folder).is_dir():
        raise OutputExistsError(f"{folder}: exists and is not a folder")
    return index


def data_uri(picture: np.ndarray, photo: bool = True) -> str:
    """A BGR uint8 picture in, a data: URI out (JPEG for photos, PNG for drawings that JPEG would smear)."""
    extension, mime, options = (".jpg", "image/jpeg", [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]) if photo else (".png", "image/png", [])
    ok, encoded = cv2.imencode(extension, picture, options)
    if not ok:
        raise ValueError(f"cannot encode a picture of shape {picture.shape} as {extension}")
    return f"data:{mime};base64,{base64.b64encode(encoded.tobytes()).decode('ascii')}"


def percent(value: float | None) -> str:
    """A fraction or None in, a percentage text (or a dash) out."""
    return "&ndash;" if value is None else f"{100 * value:.1f}%"


def metric_rows(summary: EvaluationSummary) -> list[tuple[str, str]]:
    """A summary in, the (name, value HTML) rows that apply to its dataset kind out."""
    rows = [("Images", f"{summary.images}" + (f" ({summary.errors} unreadable)" if summary.errors else ""))]
    if summary.kind != "negatives":
        rows += [
            ("Exact match (whole plate)", percent(summary.exact_rate)),
            ("Character accuracy", percent(summary.char_accuracy)),
            ("Truth among the top candidates", percent(summary.top_n_rate)),
        ]
    if summary.kind == "scenes":
        rows.append(("Detection rate (IoU &gt; 0.4)", percent(summary.detection_rate)))
    if summary.kind != "crops":
        rows += [
            ("False plates per image", f"{summary.false_plates_per_image:.3f}"),
            ("Images with a false plate", percent(summary.images_with_false_plates)),
        ]
    rows += [
        ("Time per image, median", f"{summary.median_time_ms:.1f} ms"),
        ("Time per image, mean", f"{summary.mean_time_ms:.1f} ms"),
    ]
    return rows


def metrics_table(summary: EvaluationSummary) -> str:
    """A summary in, the HTML table of its figures out."""
    body = "".join(f"<tr><th scope=row>{name}</th><td class=num>{value}</td></tr>" for name, value in metric_rows(summary))
    return f"<table class=metrics><tbody>{body}</tbody></table>"


def bar_cell(value: float) -> str:
    """A fraction in, a table cell with the percentage over a proportional bar out."""
    return f'<td class=bar><span class=track><span style="width:{100 * value:.1f}%"></span></span>{percent(value)}</td>'


def state_table(per_state: tuple[StateFigures, ...]) -> str:
    """Per-state figures in, the HTML table of them out (empty when there are none)."""
    if not per_state:
        return ""
    rows = [
        f"<tr><td class=mono>{escape(row.state.upper())}</td><td class=num>{row.images}</td>{bar_cell(row.exact_rate)}{bar_cell(row.char_accuracy)}</tr>"
        for row in per_state
    ]
    head = "<tr><th>State</th><th class=num>Images</th><th>Exact</th><th>Characters</th></tr>"
    # Fifty states in one column would be a long scroll: split them into side-by-side tables.
    size = -(-len(rows) // -(-len(rows) // STATES_PER_COLUMN))
    tables = "".join(
        f"<table class=states><thead>{head}</thead><tbody>{''.join(rows[i : i + size])}</tbody></table>" for i in range(0, len(rows), size)
    )
    return f"<h2>By state</h2><div class=states-grid>{tables}</div>"


def shown_char(char: str, missing: str) -> str:
    """An aligned character (or GAP) in, its HTML out: the gap is shown as a marked placeholder."""
    return f'<span class=gap title="{missing}">&empty;</span>' if char == GAP else escape(char)


def confusion_table(confusions: tuple[Confusion, ...], limit: int = CONFUSIONS_SHOWN) -> str:
    """Character confusions in, the HTML table of the most frequent ones out."""
    if not confusions:
        return "<h2>Character confusions</h2><p class=muted>No character was misread on a plate that was read.</p>"
    top = max(c.count for c in confusions)
    rows = "".join(
        f"<tr><td class=mono>{shown_char(c.truth, 'extra character')}</td><td class=arrow>&rarr;</td>"
        f"<td class=mono>{shown_char(c.predicted, 'character missed')}</td>"
        f'<td class=bar><span class=track><span style="width:{100 * c.count / top:.1f}%"></span></span>{c.count}</td></tr>'
        for c in confusions[:limit]
    )
    note = f"{min(limit, len(confusions))} most frequent of {len(confusions)} pairs"
    return (
        f"<h2>Character confusions</h2><p class=muted>True character &rarr; character read, counted over "
        f"edit-distance alignments of the plates that were read ({note}; &empty; = missed or extra character).</p>"
        f"<table class=confusions><thead><tr><th>True</th><th></th><th>Read</th><th>Count</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def marked_text(predicted: str, truth: str) -> str:
    """Predicted and true text in, the predicted text as HTML with right characters green and wrong ones red."""
    if not predicted:
        return "<span class=muted>nothing read</span>"
    if not truth:
        return f"<span class=bad>{escape(predicted)}</span>"
    spans = []
    for pair in align_texts(predicted, truth):
        if pair.predicted == GAP:
            spans.append(f'<span class="bad gap" title="missed {escape(pair.truth)}">&middot;</span>')
        else:
            spans.append(f'<span class={"good" if pair.correct else "bad"}>{escape(pair.predicted)}</span>')
    return "".join(spans)


def picture(image: np.ndarray, caption: str, name: str, kind: str = "") -> str:
    """A picture, its caption, the image's file name and a style class in, a captioned embedded picture's HTML out."""
    uri = data_uri(image, photo=kind != "binary")
    return f'<div class="pic {kind}"><img src="{uri}" alt="{escape(caption)} of {escape(name)}"><span>{escape(caption)}</span></div>'


def failure_card(failed: FailedImage) -> str:
    """One failed image in, its gallery card HTML out."""
    o, pictures = failed.outcome, failed.pictures
    name = Path(o.image).name
    images = [picture(pictures.plate, "plate" if pictures.scene is None else "plate area", name)]
    if pictures.segmentation is not None:
        images.append(picture(pictures.segmentation, "segmentation of the reading", name, "binary"))
    else:
        images.append("<div class=pic><div class=none>no segmentation</div></div>")
    if pictures.scene is not None:
        images.append(picture(pictures.scene, "scene", name, "wide"))
    facts = [f"confidence {o.confidence:.2f}"]
    if o.truth:
        facts.append(f"characters {percent(o.char_accuracy)}")
    if o.detected is not None:
        facts.append("plate found" if o.detected else "<span class=bad>plate not found</span>")
    if o.false_plates:
        facts.append(f"<span class=bad>{o.false_plates} false plate{'s' if o.false_plates > 1 else ''}</span>")
    truth = f"<span class=mono>{escape(o.truth)}</span>" if o.truth else "<span class=muted>no plate</span>"
    return (
        f"<figure class=card><div class=pics>{''.join(images)}</div><figcaption>"
        f'<div class=name title="{escape(o.image)}">{escape(name)}{" &middot; " + escape(o.state.upper()) if o.state else ""}</div>'
        f"<dl><dt>read</dt><dd class=mono>{marked_text(o.predicted, o.truth)}</dd><dt>truth</dt><dd>{truth}</dd></dl>"
        f"<div class=facts>{' &middot; '.join(facts)}</div></figcaption></figure>"
    )


def gallery(evaluation: Evaluation) -> str:
    """An evaluation in, the HTML gallery of its kept failures out."""
    failed = sum(is_failure(o) for o in evaluation.outcomes)
    if not failed:
        return "<h2>Failures</h2><p class=muted>No failed image.</p>"
    shown = len(evaluation.failures)
    intro = f"The {shown} worst of {failed} failed images" if shown < failed else f"All {failed} failed images"
    false_key = "<span class=key style='--c:#f00'></span>false plate."
    legend = {
        "scenes": f" Boxes: <span class=key style='--c:#f0f'></span>labeled plate, <span class=key style='--c:#00c800'></span>plate returned on it, {false_key}",
        "negatives": f" Boxes: {false_key}",
    }.get(evaluation.summary.kind, "")
    cards = "".join(failure_card(f) for f in evaluation.failures)
    return (
        f"<h2>Failures</h2><p class=muted>{intro}, fewest right characters first, then most confident. "
        f"Read text: <span class=good>right</span>, <span class=bad>wrong</span>, <span class=bad>&middot;</span> missed."
        f" Segmentation: the binary plate with character boxes.{legend}</p><div class=gallery>{cards}</div>"
    )


STYLE = """
:root { --good: #1a7f37; --bad: #cf222e; --muted: #656d76; --line: #d0d7de; --bar: #ddf4ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #f6f8fa; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); margin: 0 0 12px; }
.meta code, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.muted { color: var(--muted); }
.good { color: var(--good); }
.bad { color: var(--bad); font-weight: 600; }
.gap { color: var(--bad); }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left; }
thead th { background: #eaeef2; font-weight: 600; }
tbody tr:last-child > * { border-bottom: none; }
tbody tr:nth-child(even) { background: #fafbfc; }
th[scope=row] { font-weight: 500; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.metrics td { min-width: 140px; font-weight: 600; }
.bar { white-space: nowrap; font-variant-numeric: tabular-nums; }
.track { display: inline-block; width: 64px; height: 9px; margin-right: 8px; background: #eaeef2; border-radius: 5px; overflow: hidden; }
.track span { display: block; height: 100%; background: #54aeff; }
.arrow { color: var(--muted); padding: 5px 2px; }
.confusions td.mono { font-size: 17px; text-align: center; }
.columns { display: flex; gap: 40px; flex-wrap: wrap; align-items: flex-start; }
.columns > section:last-child { flex: 1 1 420px; }
.key { display: inline-block; width: 12px; height: 12px; border: 2px solid var(--c); margin: 0 4px 0 6px; vertical-align: -1px; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(370px, 1fr)); gap: 14px; }
.card { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px; }
.pics { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; align-items: end; }
.pic { min-width: 0; }
.pic.wide { grid-column: 1 / -1; }
.pic img { display: block; max-width: 100%; height: auto; max-height: 110px; border-radius: 3px; border: 1px solid var(--line); }
.pic.binary img { image-rendering: pixelated; }
.pic.wide img { max-height: none; }
.pic span { display: block; font-size: 11px; color: var(--muted); }
.none { height: 60px; display: flex; align-items: center; justify-content: center; border: 1px dashed var(--line);
        border-radius: 3px; color: var(--muted); font-size: 12px; }
.states-grid { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
.states th, .states td { padding: 4px 7px; }
.states .track { width: 40px; }
figcaption { margin-top: 8px; }
.name { font-size: 13px; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 0 10px; margin: 4px 0; align-items: baseline; }
dt { color: var(--muted); font-size: 13px; }
dd { margin: 0; font-size: 20px; letter-spacing: 0.06em; }
.facts { font-size: 13px; color: var(--muted); }
"""


def render_report(evaluation: Evaluation, model: str, dataset: str) -> str:
    """An evaluation, the model's name and the dataset's path in, the whole HTML page out."""
    from . import __version__  # here, not at the top: lpr/__init__.py may one day import this module

    summary = evaluation.summary
    # A plate read somewhere else in the scene says nothing about how its own characters are confused.
    confusions = character_confusions(
        (o.predicted, o.truth) for o in evaluation.outcomes if o.error is None and o.detected is not False
    )
    title = f"lpr evaluation: {Path(dataset).name or dataset}"
    return f"""<!DOCTYPE html>
<html lang=en>
<head>
<meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body><main>
<h1>{escape(title)}</h1>
<p class=meta>Model <code>{escape(model)}</code> &middot; dataset <code>{escape(dataset)}</code> ({escape(summary.kind)}) &middot; lpr {escape(__version__)}</p>
<div class=columns>
<section><h2>Figures</h2>{metrics_table(summary)}</section>
<section>{confusion_table(confusions) if summary.kind != "negatives" else ""}</section>
</div>
{state_table(summary.per_state)}
{gallery(evaluation)}
</main></body>
</html>
"""


def outcome_lines(evaluation: Evaluation) -> bytes:
    """An evaluation in, its per-image outcomes as JSON Lines bytes out."""
    return "".join(json.dumps(asdict(o)) + "\n" for o in evaluation.outcomes).encode()


def write_report(folder: str | os.PathLike, evaluation: Evaluation, model: str, dataset: str, force: bool = False) -> ReportFiles:
    """Write index.html, summary.json and outcomes.jsonl into folder, each atomically; refuses an existing report unless force."""
    folder = Path(folder)
    index = check_report_folder(folder, force)
    files = ReportFiles(index, folder / SUMMARY, folder / OUTCOMES)
    page = render_report(evaluation, model, dataset).encode()
    figures = json.dumps(evaluation.summary.to_dict(), indent=2).encode() + b"\n"
    lines = outcome_lines(evaluation)
    # index.html marks a finished report, so it is written last; the JSON files beside a folder
    # without one are leftovers of an interrupted run and may be replaced.
    write_atomically(files.summary, lambda stream: stream.write(figures), force=True)
    write_atomically(files.outcomes, lambda stream: stream.write(lines), force=True)
    write_atomically(files.index, lambda stream: stream.write(page), force=force)
    return files
