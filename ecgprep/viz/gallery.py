"""A static, self-contained HTML gallery of a batch: one card per image.

:func:`gallery_html` / :func:`write_gallery` build one page (thumbnails inline as
data URIs, no external resource, works offline); :func:`gallery` gives a
:class:`Gallery` that a notebook shows inline.
"""

from __future__ import annotations

import base64
import functools
import html
import math
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .._atomic import write_atomic
from ..io import find_image
from ..options import Options, as_options
from ..verdict import verdict_of
from .overlay import (
    _LEGEND,
    COLORS,
    LAYERS,
    _angle,
    _as_image,
    _check_result,
    _encode,
    overlay,
)

__all__ = ["Gallery", "gallery", "gallery_html", "write_gallery"]


@dataclass(frozen=True)
class _Score:
    snr_db: float | None
    difficulty: str | None


def _is_evaluation(obj: Any) -> bool:
    return hasattr(obj, "per_record") and hasattr(obj, "score_db")


def _scores_of(scores: Any) -> dict[str, _Score]:
    """id -> score, from an Evaluation, a frame (id, snr_db[, difficulty]) or a dict id -> dB."""
    if scores is None:
        return {}
    frame = scores.per_record if _is_evaluation(scores) else scores
    if hasattr(frame, "columns") and "id" in getattr(frame, "columns", ()):
        if "snr_db" not in frame.columns:
            raise ValueError(f"scores frame needs columns id and snr_db, got {list(frame.columns)}")
        diff = frame["difficulty"] if "difficulty" in frame.columns else [None] * len(frame)
        out = {}
        for i, s, d in zip(frame["id"], frame["snr_db"], diff, strict=True):
            out[str(i)] = _Score(_finite(s), None if d is None or d != d else str(d))
        return out
    if isinstance(scores, Mapping):
        return {str(k): _Score(_finite(v), None) for k, v in scores.items()}
    raise ValueError(
        "scores must be an Evaluation, a DataFrame with id and snr_db, or a dict id -> dB; "
        f"got {type(scores).__name__}"
    )


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else (f if f == -math.inf else None)


def _image_for(res, i: int, images: Any) -> Any:
    """The image source of result ``res`` (index ``i``) given the ``images`` argument."""
    if images is None:
        src = getattr(res, "source", None)
        return src if isinstance(src, str) and os.path.isfile(src) else None
    if isinstance(images, str | os.PathLike):
        d = Path(images)
        for sub in (d / "images", d):
            p = find_image(sub, str(res.image_id)) if sub.is_dir() else None
            if p is not None:
                return p
        return None
    if isinstance(images, Mapping):
        return images.get(res.image_id)
    if isinstance(images, Sequence):
        return images[i] if i < len(images) else None
    raise ValueError(
        "images must be a folder, a dict id -> image, or a sequence aligned with the results; "
        f"got {type(images).__name__}"
    )


def _fmt_ms(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.0f}" if s < 10 else f"{s:.1f} s"


def _js_number(v: float | None) -> str:
    """A score as JavaScript's Number() reads it ('' when unknown)."""
    if v is None:
        return ""
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return f"{v:.3f}"


def _score_class(db: float | None) -> str:
    if db is None:
        return "eg-na"
    if db >= 15:
        return "eg-good"
    if db >= 5:
        return "eg-mid"
    return "eg-bad"


def _thumb(
    res, src: Any, options, width: int, quality: int
) -> tuple[str | None, str | None, tuple[int, int]]:
    """(data URI, error, (w, h)) of the overlay thumbnail."""
    if src is None:
        return None, "no image to show", (0, 0)
    try:
        img = _as_image(src)
        h, w = img.shape[:2]
        side = int(max(16, math.floor(width * max(h, w) / w)))
        q = res.stage("quality")
        clean = res.ok and (q is None or q.passed)
        layers = [x for x in LAYERS if not (clean and x == "banner")]
        pic = overlay(img, res, options=options, max_side=side, legend=False, layers=layers)
    except (ValueError, OSError, cv2.error) as exc:
        return None, f"no overlay: {exc}", (0, 0)
    data = base64.b64encode(_encode(pic, "jpg", quality)).decode("ascii")
    return f"data:image/jpeg;base64,{data}", None, (pic.shape[1], pic.shape[0])


def _card(res, i: int, src: Any, score: _Score | None, options, width: int, quality: int) -> str:
    e = html.escape
    q = res.stage("quality")
    g = res.stage("grid")
    d = res.stage("deskew")
    crop = res.stage("edges")
    dig = res.stage("digitize")
    classes = ["eg-card", "eg-ok" if res.ok else "eg-failed"]
    qpass = None if q is None else bool(q.passed)
    if qpass is False:
        classes.append("eg-qfail")
    verdict = verdict_of(res)
    suspect = bool(res.ok and verdict.suspect)  # a failure says why in its error
    if suspect:
        classes.append("eg-suspect")
    db = score.snr_db if score is not None else None
    uri, why, (tw, th) = _thumb(res, src, options, width, quality)
    parts = [
        f'<div class="{" ".join(classes)}" data-index="{i}" data-id="{e(str(res.image_id))}" '
        f'data-score="{_js_number(db)}">'
    ]
    if uri is not None:
        parts.append(
            f'<img class="eg-thumb" src="{uri}" width="{tw}" height="{th}" '
            f'alt="overlay of {e(str(res.image_id))}" loading="eager">'
        )
    else:
        parts.append(f'<div class="eg-noimg">{e(why or "")}</div>')
    badge = (
        '<span class="eg-badge eg-b-ok">ok</span>'
        if res.ok
        else (f'<span class="eg-badge eg-b-failed">failed: {e(str(res.failed_stage))}</span>')
    )
    head = [
        f'<span class="eg-id" title="{e(str(res.source))}">{e(str(res.image_id))}</span>',
        badge,
    ]
    if suspect:
        why = "; ".join(verdict.reasons)
        head.append(f'<span class="eg-badge eg-b-suspect" title="{e(why)}">suspect</span>')
    if score is not None:
        txt = "-" if db is None else ("-inf dB" if db == -math.inf else f"{db:.1f} dB")
        head.append(f'<span class="eg-badge eg-score {_score_class(db)}">{txt}</span>')
        if score.difficulty:
            head.append(f'<span class="eg-diff">{e(score.difficulty)}</span>')
    parts.append(f'<div class="eg-head">{" ".join(head)}</div>')
    if not res.ok and res.error:
        parts.append(f'<div class="eg-err">{e(str(res.error))}</div>')
    if suspect:
        items = "".join(f"<li>{e(r)}</li>" for r in verdict.reasons)
        parts.append(f'<div class="eg-suspect-why">suspect:<ul>{items}</ul></div>')
    if q is None:
        parts.append('<div class="eg-q">quality: not judged</div>')
    elif q.passed:
        parts.append('<div class="eg-q">quality: <b class="eg-pass">pass</b></div>')
    else:
        reasons = "; ".join(q.reasons)
        parts.append(f'<div class="eg-q">quality: <b class="eg-fail">fail</b> ({e(reasons)})</div>')
    kv = []
    if res.ok:
        kv.append(("confidence", f"{verdict.confidence:.2f}"))
        weakest = min(verdict.lead_confidence.items(), key=lambda kv_: kv_[1], default=None)
        if weakest is not None:
            why = "; ".join(verdict.lead_reasons.get(weakest[0], ()))
            why = f" ({e(why)})" if why else ""
            kv.append(("weakest lead", f"{e(weakest[0])} {weakest[1]:.2f}{why}"))
        kv.append(("layout", e(str(verdict.layout))))
        kv.append(("speed / gain", f"{verdict.paper_speed:g} mm/s / {verdict.gain:g} mm/mV"))
    if g is not None and math.isfinite(float(g.px_per_mm_x)):
        kv.append(("px/mm", f"{g.px_per_mm_x:.2f} x {g.px_per_mm_y:.2f}"))
        kv.append(("grid conf.", f"{g.confidence:.2f}"))
    if d is not None:
        kv.append(("angle", f"{_angle(d.angle_deg)}&deg;"))
    if q is not None:
        dpi = "-" if q.dpi is None else f"{q.dpi:.0f}"
        kv.append(("dpi / sharp.", f"{dpi} / {q.sharpness:.2f}"))
    if crop is not None:
        found = getattr(getattr(crop, "paper", None), "found", None)
        kv.append(("paper", "found" if found else "fills frame"))
    if dig is not None:
        pulses = getattr(dig, "pulses", ()) or ()
        kv.append(("pulses", f"{sum(bool(p.found) for p in pulses)}/{len(pulses)}"))
    if len(res.shape) == 2:
        kv.append(("size", f"{res.shape[1]} x {res.shape[0]}"))
    if kv:
        cells = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in kv)
        parts.append(f'<dl class="eg-kv">{cells}</dl>')
    if res.stages:
        slow = max(res.stages, key=lambda r: r.seconds)
        times = " &middot; ".join(
            (
                f"<b>{e(r.name)} {_fmt_ms(r.seconds)}</b>"
                if r is slow
                else f"{e(r.name)} {_fmt_ms(r.seconds)}"
            )
            for r in res.stages
        )
        parts.append(f'<div class="eg-times">{times} ms &middot; total {res.seconds:.2f} s</div>')
    warns = list(getattr(res, "warnings", ()) or ())
    if warns:
        items = "".join(f"<li>{e(w)}</li>" for w in warns)
        parts.append(
            f'<details class="eg-warn"><summary>{len(warns)} warning(s)</summary>'
            f"<ul>{items}</ul></details>"
        )
    parts.append("</div>")
    return "".join(parts)


@functools.cache
def _asset(name: str) -> str:
    """A text file shipped in this package (the gallery's style or script).

    The file's leading ``/* ... */`` comment, which documents its placeholders,
    is left out.
    """
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    if text.startswith("/*"):
        text = text.split("*/\n", 1)[1]
    return text


def _fill(template: str, **values: Any) -> str:
    """``template`` with every ``{name}`` replaced by ``str(values[name])``.

    Unlike :meth:`str.format`, the braces of CSS and JavaScript stay as written.
    """
    for key, value in values.items():
        template = template.replace("{" + key + "}", str(value))
    return template


@dataclass(frozen=True)
class Gallery:
    """An HTML gallery of a batch; shows inline in a notebook, saves as a standalone page.

    Attributes
    ----------
    html : str
        The gallery as an HTML fragment (a ``<div>`` with its own style and script).
    title : str
        Page title.
    n_images : int
        Number of cards.
    """

    html: str
    title: str
    n_images: int

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        mb = len(self.html) / 1e6
        return f"Gallery({self.title!r}, {self.n_images} images, {mb:.1f} MB of HTML)"

    def page(self) -> str:
        """The gallery as a complete, self-contained HTML document (no external resource)."""
        csp = (
            "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
        )
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n"
            "<style>body {margin: 0; background: #f4f5f7;}</style>\n"
            f"</head>\n<body>\n{self.html}\n</body>\n</html>\n"
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`page` to ``path`` (UTF-8, whole or not at all: see
        :func:`ecgprep._atomic.atomic_output`); returns the path."""
        text = self.page()
        return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _header(results: list, scores: dict[str, _Score], evaluation: Any, title: str) -> str:
    e = html.escape
    n = len(results)
    n_ok = sum(bool(r.ok) for r in results)
    n_q = sum(r.stage("quality") is not None and not r.stage("quality").passed for r in results)
    n_s = sum(bool(r.ok) and verdict_of(r).suspect for r in results)
    secs = [r.seconds for r in results if r.stages]
    bits = []
    if evaluation is not None:
        bits.append(
            f'<span>score <span class="eg-big">{float(evaluation.score_db):.2f} dB</span></span>'
        )
    elif scores:
        vals = [s.snr_db for s in scores.values() if s.snr_db is not None]
        if vals:
            bits.append(
                "<span>median image score "
                f'<span class="eg-big">{float(np.median(vals)):.2f} dB</span></span>'
            )
    bits.append(f"<span><b>{n}</b> images</span>")
    bits.append(f"<span><b>{n_ok}</b> ok</span>")
    bits.append(f"<span><b>{n_s}</b> of them suspect</span>")
    bits.append(f"<span><b>{n - n_ok}</b> failed</span>")
    bits.append(f"<span><b>{n_q}</b> failed a quality gate</span>")
    if secs:
        bits.append(f"<span>{float(np.median(secs)):.2f} s median per image</span>")
    out = [f"<h2>{e(title)}</h2>", f'<div class="eg-sum">{"".join(bits)}</div>']
    by = getattr(evaluation, "by_difficulty", None)
    if by is not None and len(by) and "difficulty" in by.columns:
        # One column per difficulty (compact however many there are).
        trs = []
        for c in ("difficulty", "n", "score_db", "failed"):
            if c not in by.columns:
                continue
            tag = "th" if c == "difficulty" else "td"
            cells = "".join(
                f"<{tag}>{v:.2f}</{tag}>" if c == "score_db" else f"<{tag}>{e(str(v))}</{tag}>"
                for v in by[c]
            )
            label = "dB" if c == "score_db" else c
            trs.append(f"<tr><th>{e(label)}</th>{cells}</tr>")
        out.append(f'<table class="eg-diff-t">{"".join(trs)}</table>')
    legend = (
        "".join(
            f'<span><i style="background: rgb{COLORS[k]}"></i>{e(lab)}</span>' for k, lab in _LEGEND
        )
        + f'<span><i style="background: rgb{COLORS["trace_on_blue"]}"></i>'
        + "traces on blue paper</span>"
    )
    out.append(f'<div class="eg-legend">{legend}</div>')
    return "".join(out)


def gallery(
    results: Iterable[Any],
    *,
    images: Any = None,
    scores: Any = None,
    title: str = "ecgprep gallery",
    options: Options | Mapping[str, Any] | None = None,
    thumb_width: int = 480,
    jpeg_quality: int = 85,
    n_jobs: int | None = -1,
) -> Gallery:
    """Build a :class:`Gallery`: one card per image with its overlay and numbers.

    Parameters
    ----------
    results : iterable of ImageResult, or Evaluation
        What the pipeline found, e.g. a :class:`~ecgprep.batch.BatchResults` or a
        list of ImageResult. An :class:`~ecgprep.evaluate.Evaluation` gives one card
        per evaluated id from its ``results`` (a placeholder for an id without an
        image) and is the default ``scores``. Nothing is run: the results are drawn.
    images : folder, dict, sequence or None
        Where the images are: a folder (``<id>.png|jpg`` in it or in its ``images/``),
        a dict id -> image (path, bytes or array), or a sequence aligned with
        ``results``. None: each result's ``source`` when it is a file.
    scores : Evaluation, DataFrame or dict, optional
        Per-image score in dB: an :class:`~ecgprep.evaluate.Evaluation` (its score
        and per-difficulty table also go in the header), a frame with ``id,
        snr_db`` (and ``difficulty``), or a dict id -> dB.
    title : str
    options : Options or dict, optional
        Options the batch ran with (see :func:`~ecgprep.viz.overlay`).
    thumb_width : int
        Width of the thumbnails in pixels.
    jpeg_quality : int
        JPEG quality of the thumbnails.
    n_jobs : int or None
        Threads drawing the thumbnails (decoding and drawing release the GIL).

    Returns
    -------
    Gallery

    Raises
    ------
    ValueError
        An Evaluation without results, bad ``scores``, ``images``, ``thumb_width``
        or ``jpeg_quality``.
    TypeError
        An item of ``results`` is not an ImageResult.

    Notes
    -----
    Every thumbnail is inline (about 50-100 kB each at 480 px), so a gallery of
    hundreds of images makes a page of tens of MB: show a selection in a notebook
    (e.g. the failures) rather than a whole test set.
    """
    if (
        isinstance(thumb_width, bool)
        or not isinstance(thumb_width, int | np.integer)
        or thumb_width < 64
    ):
        raise ValueError(f"thumb_width must be an integer >= 64, got {thumb_width!r}")
    if (
        isinstance(jpeg_quality, bool)
        or not isinstance(jpeg_quality, int | np.integer)
        or not 1 <= jpeg_quality <= 100
    ):
        raise ValueError(f"jpeg_quality must be an integer in [1, 100], got {jpeg_quality!r}")
    if _is_evaluation(results):
        if scores is None:
            scores = results
        results = _evaluated_results(results)
    res_list = list(results)
    for r in res_list:
        _check_result(r)
    opts = as_options(options)
    score_map = _scores_of(scores)
    evaluation = scores if _is_evaluation(scores) else None
    jobs = [
        (
            r,
            i,
            _image_for(r, i, images),
            score_map.get(str(r.image_id)) if score_map else None,
            opts,
            int(thumb_width),
            int(jpeg_quality),
        )
        for i, r in enumerate(res_list)
    ]
    if n_jobs == 1 or len(jobs) < 2:
        cards = [_card(*job) for job in jobs]
    else:
        from joblib import Parallel, delayed

        cards = list(
            Parallel(n_jobs=n_jobs, prefer="threads")(delayed(_card)(*job) for job in jobs)
        )
    digest = zlib.crc32("".join(cards).encode("utf-8")) ^ zlib.crc32(title.encode("utf-8"))
    gid = f"ecgprep-gallery-{digest:08x}"
    n_fail = sum(not r.ok for r in res_list)
    n_q = sum("eg-qfail" in c.split(">", 1)[0] for c in cards)
    n_s = sum("eg-suspect" in c.split(">", 1)[0] for c in cards)
    bar = (
        '<div class="eg-bar">show: '
        f'<button class="eg-on" data-filter="all">all ({len(res_list)})</button>'
        f'<button data-filter="failed">failed ({n_fail})</button>'
        f'<button data-filter="suspect">suspect ({n_s})</button>'
        f'<button data-filter="qfail">quality fail ({n_q})</button>'
    )
    if score_map:
        bar += (
            ' &nbsp; order: <select class="eg-sort"><option value="input">as given</option>'
            '<option value="score">worst score first</option></select>'
        )
    bar += "</div>"
    css = _fill(
        _asset("gallery.css"),
        gid=gid,
        minw=min(int(thumb_width), 300) + 14,
        maxw=int(thumb_width) + 14,
    )
    js = _fill(_asset("gallery.js"), gid=gid)
    frag = (
        f'<div id="{gid}" class="ecgprep-gallery" data-show="all" data-images="'
        f'{sum("<img " in c for c in cards)}">'
        f"<style>\n{css}</style>"
        f"{_header(res_list, score_map, evaluation, title)}{bar}"
        f'<div class="eg-cards">{"".join(cards)}</div>'
        f"<script>\n{js}</script></div>"
    )
    return Gallery(frag, title, len(res_list))


def gallery_html(
    results: Iterable[Any],
    *,
    images: Any = None,
    scores: Any = None,
    title: str = "ecgprep gallery",
    options: Options | Mapping[str, Any] | None = None,
    thumb_width: int = 480,
    n_jobs: int | None = -1,
) -> str:
    """The gallery of :func:`gallery` as a complete, self-contained HTML page.

    Parameters
    ----------
    results, images, scores, title, options, thumb_width, n_jobs
        As :func:`gallery`.

    Returns
    -------
    str
        An HTML document: thumbnails are inline ``data:`` URIs, the style and the
        filter script are inline, nothing is fetched (a Content-Security-Policy
        forbids it), so the page works offline and can be mailed as one file.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgprep import process_image_for_submission
    >>> img = np.full((200, 300, 3), 255, np.uint8)
    >>> res = process_image_for_submission(img, image_id="blank")
    >>> page = gallery_html([res], images=[img])
    >>> page.startswith("<!DOCTYPE html>"), page.count('<div class="eg-card ')
    (True, 1)
    """
    return gallery(
        results,
        images=images,
        scores=scores,
        title=title,
        options=options,
        thumb_width=thumb_width,
        n_jobs=n_jobs,
    ).page()


def _missing(image_id: str, why: str):
    from ..pipeline import ImageResult

    return ImageResult(
        image_id=image_id, source="(no image)", ok=False, error=why, failed_stage="missing"
    )


def _evaluated_results(ev: Any) -> list:
    """One result per evaluated id, in the evaluation's order, then any others it holds.

    An id the evaluation scored without an image gets a "missing" placeholder.
    """
    results = getattr(ev, "results", None)
    if results is None:
        raise ValueError(
            "the evaluation holds no results to draw: pass the results of the batch it "
            "scored (as evaluate_folder keeps them); the gallery never runs the pipeline"
        )
    by_id = {str(r.image_id): r for r in results}
    ids = [str(i) for i in ev.per_record["id"]]
    return [by_id.pop(i, None) or _missing(i, "no image file") for i in ids] + list(by_id.values())


def write_gallery(
    ev_or_results: Any,
    data_dir_or_images: Any,
    out_html: str | os.PathLike,
    *,
    options: Options | Mapping[str, Any] | None = None,
    title: str | None = None,
    n_jobs: int | None = -1,
    thumb_width: int = 480,
) -> Path:
    """Write the gallery page of a batch or of an evaluation.

    Parameters
    ----------
    ev_or_results : Evaluation or iterable of ImageResult
        The results to draw (see ``results`` of :func:`gallery`). With an
        :class:`~ecgprep.evaluate.Evaluation` the cards (one per evaluated id, from
        its ``results``) carry each image's score and the header the overall score.
    data_dir_or_images : folder, dict or sequence
        Where the images are (see ``images`` of :func:`gallery`); for an
        evaluation, its folder.
    out_html : str or PathLike
        Output page.
    options : Options or dict, optional
        Options the batch ran with.
    title : str, optional
        Default: "ecgprep evaluation" for an evaluation, else "ecgprep gallery".
    n_jobs : int or None
        Threads drawing the thumbnails.
    thumb_width : int

    Returns
    -------
    Path
        ``out_html``.

    Raises
    ------
    ValueError
        An Evaluation without results (the gallery draws results, it never runs
        the pipeline), or as :func:`gallery`.
    """
    default_title = "ecgprep evaluation" if _is_evaluation(ev_or_results) else "ecgprep gallery"
    g = gallery(
        ev_or_results,
        images=data_dir_or_images,
        title=title or default_title,
        options=options,
        thumb_width=thumb_width,
        n_jobs=n_jobs,
    )
    return g.save(out_html)
