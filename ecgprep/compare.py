"""Methods side by side: every edge detector and every colour conversion on one image.

:func:`compare_methods` runs, in parallel (joblib), every edge method of
:mod:`ecgprep.edges` (``find_paper`` and ``detect_edges``) and every colour space x
backend of :mod:`ecgprep.colors` (``separate_colors``) on one image, and returns a
:class:`MethodComparison`: a table (time and key numbers per method, with the
trace mask's agreement with the default conversion) and a contact sheet (one
small labelled panel per method). :func:`write_comparison` writes both as a
self-contained ``compare.html`` and a ``compare.png``: what
``ecgprep compare IMAGE --out DIR`` does.

Only small things cross process boundaries: numbers, corner coordinates,
thumbnails made inside the workers, and the two reference trace masks packed to
one bit per pixel.
"""

from __future__ import annotations

import base64
import html
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from ._validate import check_image

__all__ = ["MethodComparison", "compare_methods", "write_comparison", "COMPARE_COLUMNS"]

#: Columns of :attr:`MethodComparison.table`.
COMPARE_COLUMNS = (
    "stage",
    "method",
    "seconds",
    "paper_found",
    "paper_box",
    "confidence",
    "edge_seconds",
    "edge_fraction",
    "trace_fraction",
    "grid_fraction",
    "neutral_grid",
    "iou",
    "iou_space",
    "warnings",
    "error",
)

_DEFAULT = ("lab", "opencv")


# ---------------------------------------------------------------------------
# small helpers (run inside workers)


def _thumb_shape(shape: tuple[int, int], side: int) -> tuple[int, int]:
    h, w = shape
    s = min(1.0, side / max(h, w))
    return max(1, round(h * s)), max(1, round(w * s))


def _thumb_mask(mask: np.ndarray, side: int) -> np.ndarray:
    """Shrink a bool mask so that any marked pixel keeps its block marked (thin lines survive)."""
    th, tw = _thumb_shape(mask.shape, side)
    if (th, tw) == mask.shape:
        return mask.copy()
    # 0/255, not 0/1: the area average of a block holding one marked pixel then
    # stays above 0 after rounding (for shrink factors up to 22)
    full = mask.view(np.uint8) * np.uint8(255)
    return cv2.resize(full, (tw, th), interpolation=cv2.INTER_AREA) > 0


def _thumb_image(image: np.ndarray, side: int) -> np.ndarray:
    th, tw = _thumb_shape(image.shape[:2], side)
    return cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)


def _pack(mask: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
    return mask.shape, np.packbits(mask, axis=None)


def _unpack(packed: tuple[tuple[int, int], np.ndarray]) -> np.ndarray:
    shape, bits = packed
    n = int(shape[0]) * int(shape[1])
    return np.unpackbits(bits, count=n).view(bool).reshape(shape)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.count_nonzero(a | b))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(a & b)) / union


class _OneThread:
    """OpenCV on one thread inside a worker (the workers already share the cores)."""

    def __enter__(self):
        self.old = cv2.getNumThreads()
        cv2.setNumThreads(1)

    def __exit__(self, *exc):
        cv2.setNumThreads(self.old)


_WARMED: set = set()


def _warm_up(key: tuple, fn) -> None:
    """Run ``fn`` once per process on a tiny page before timing: the first call of a
    method pays one-time costs (imports, OpenCV tables) that are not its speed."""
    if key in _WARMED:
        return
    tiny = np.full((48, 64, 3), 235, np.uint8)
    tiny[:6] = tiny[-6:] = 40
    tiny[20:22, 8:56] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(tiny)
        except Exception:  # noqa: BLE001 - the real call reports errors
            pass
    _WARMED.add(key)


def _edge_task(image: np.ndarray, method: str, side: int) -> dict[str, Any]:
    """One edge method: find_paper (timed: what the pipeline runs) and detect_edges."""
    from . import edges

    row: dict[str, Any] = {"stage": "edges", "method": method}
    with _OneThread():
        _warm_up(
            ("edges", method),
            lambda im: (edges.find_paper(im, method=method), edges.detect_edges(im, method=method)),
        )
    with _OneThread(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            t0 = time.perf_counter()
            paper = edges.find_paper(image, method=method)
            row["seconds"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            emap = edges.detect_edges(image, method=method)
            row["edge_seconds"] = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - one method's failure is a result here
            row["error"] = f"{type(exc).__name__}: {exc}"
            row["warnings"] = _warn_text(caught)
            return {"row": row, "thumb": None, "quad": None}
    row.update(
        paper_found=bool(paper.found),
        paper_box=tuple(int(v) for v in paper.box),
        confidence=float(paper.confidence),
        edge_fraction=float(np.count_nonzero(emap)) / emap.size,
        warnings=_warn_text(caught),
    )
    quad = np.asarray(paper.quad, np.float64) if paper.found else None
    return {"row": row, "thumb": _thumb_mask(emap, side), "quad": quad}


def _warn_text(caught) -> str:
    return "; ".join(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))


def _color_task(
    image: np.ndarray, space: str, backend: str, side: int, refs: dict | None, keep_packed: bool
) -> dict[str, Any]:
    """One colour space x backend: separate_colors, IoU of its trace mask vs the references."""
    from . import colors

    row: dict[str, Any] = {"stage": "colors", "method": f"{space}/{backend}"}
    with _OneThread():
        _warm_up(
            ("colors", space, backend),
            lambda im: colors.separate_colors(im, space=space, backend=backend),
        )
    with _OneThread(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            t0 = time.perf_counter()
            col = colors.separate_colors(image, space=space, backend=backend)
            row["seconds"] = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - one method's failure is a result here
            row["error"] = f"{type(exc).__name__}: {exc}"
            row["warnings"] = _warn_text(caught)
            return {"row": row, "thumb": None, "packed": None}
    row.update(
        trace_fraction=float(col.trace_fraction),
        grid_fraction=float(col.grid_fraction),
        neutral_grid=bool(col.neutral_grid),
        warnings=_warn_text(caught),
    )
    trace = col.trace_mask
    if refs is not None:
        default = refs.get(_DEFAULT)
        same = refs.get((space, "opencv"))
        row["iou"] = _iou(trace, _unpack(default)) if default is not None else np.nan
        row["iou_space"] = _iou(trace, _unpack(same)) if same is not None else np.nan
    # 0 paper, 1 grid, 2 trace
    codes = np.where(
        _thumb_mask(trace, side), 2, np.where(_thumb_mask(col.grid_mask, side), 1, 0)
    ).astype(np.uint8)
    return {"row": row, "thumb": codes, "packed": _pack(trace) if keep_packed else None}


# ---------------------------------------------------------------------------
# result


@dataclass(frozen=True)
class MethodComparison:
    """Every method's numbers and a thumbnail, for one image.

    Attributes
    ----------
    table : DataFrame
        One row per method, columns :data:`COMPARE_COLUMNS`: ``stage`` (``'edges'``
        or ``'colors'``), ``method`` (edge method, or ``'space/backend'``),
        ``seconds`` (``find_paper`` resp. ``separate_colors``); edges:
        ``paper_found``, ``paper_box`` (x0, y0, x1, y1), ``confidence``,
        ``edge_seconds`` (``detect_edges``) and ``edge_fraction`` (edge pixels
        over all pixels); colours: ``trace_fraction``, ``grid_fraction``,
        ``neutral_grid``, ``iou`` (trace mask vs the default ``lab/opencv``)
        and ``iou_space`` (vs the ``opencv`` backend of the same space); and
        ``warnings`` and ``error`` (a method that raised has only these).
    shape : tuple of int
        ``(M, N)`` of the image.
    thumbnail : (m, n, 3) ndarray of uint8
        The image, shrunk.
    panels : tuple
        ``(label, kind, thumb, quad)`` per method in table order: ``kind``
        ``'edges'`` (thumb a bool edge map, quad the paper corners in image
        pixels or None) or ``'colors'`` (thumb uint8 codes: 0 paper, 1 grid,
        2 trace), thumb None for a method that failed.

    Notes
    -----
    With ``n_jobs`` > 1 the methods ran at the same time, so their times include
    contention for the cores; compare them with ``n_jobs=1``.
    """

    table: pd.DataFrame
    shape: tuple[int, int]
    thumbnail: np.ndarray = field(repr=False)
    panels: tuple = field(repr=False)

    def picture(self, max_side: int = 1600, *, columns: int | None = None) -> np.ndarray:
        """A contact sheet: the image, then one labelled panel per method.

        Edge panels show the edge map (black on white) with the paper found
        (green); colour panels show the trace (black) over the grid (red).

        Parameters
        ----------
        max_side : int
            Longer side of the sheet, pixels (>= 64).
        columns : int, optional
            Panels per row (default: about square).

        Returns
        -------
        (H, W, 3) ndarray of uint8
            RGB picture, ``max(H, W) <= max_side``.
        """
        if not isinstance(max_side, int | np.integer) or max_side < 64:
            raise ValueError(f"max_side must be an integer >= 64, got {max_side!r}")
        tiles = [("input", _colorize_input(self.thumbnail))] + self._tiles()
        th, tw = self.thumbnail.shape[:2]
        n = len(tiles)
        cols = int(columns) if columns else int(np.ceil(np.sqrt(n)))
        cols = max(1, min(cols, n))
        rows = int(np.ceil(n / cols))
        label_h = max(14, th // 12)
        pad = 4
        cell_h, cell_w = th + label_h + pad, tw + pad
        sheet = np.full((rows * cell_h + pad, cols * cell_w + pad, 3), 255, np.uint8)
        font_scale = label_h / 30.0
        for k, (label, tile) in enumerate(tiles):
            r, c = divmod(k, cols)
            y, x = pad + r * cell_h, pad + c * cell_w
            sheet[y + label_h : y + label_h + tile.shape[0], x : x + tile.shape[1]] = tile
            cv2.rectangle(
                sheet,
                (x - 1, y + label_h - 1),
                (x + tile.shape[1], y + label_h + tile.shape[0]),
                (160, 160, 160),
                1,
            )
            cv2.putText(
                sheet,
                label,
                (x + 2, y + label_h - 4),
                cv2.FONT_HERSHEY_SIMPLEX,
                font_scale,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
        big = max(sheet.shape[:2])
        if big > max_side:
            s = max_side / big
            size = (max(1, int(sheet.shape[1] * s)), max(1, int(sheet.shape[0] * s)))
            sheet = cv2.resize(sheet, size, interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(sheet)

    def _tiles(self) -> list[tuple[str, np.ndarray]]:
        """``(label, RGB tile)`` per method, in table order."""
        th, tw = self.thumbnail.shape[:2]
        tiles = []
        for label, kind, thumb, quad in self.panels:
            if thumb is None:
                tile = np.full((th, tw, 3), 235, np.uint8)
                cv2.line(tile, (0, 0), (tw - 1, th - 1), (200, 0, 0), 2)
                tiles.append((f"{label} (failed)", tile))
            elif kind == "edges":
                tiles.append((label, _colorize_edges(thumb, quad, self.shape)))
            else:
                tiles.append((label, _colorize_colors(thumb)))
        return tiles

    def to_html(self, title: str = "ecgprep compare") -> str:
        """A self-contained HTML page: the input and every method's thumbnail (inline
        PNG), with its time and numbers, one table per stage.

        Parameters
        ----------
        title : str
            Page title and heading (escaped), e.g. the image's file name.

        Returns
        -------
        str
            The page; it loads nothing from elsewhere.
        """
        return _html_page(self, str(title))

    def figure(self, max_side: int = 1600):
        """The contact sheet as a matplotlib Figure (needs matplotlib)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # optional dependency
            raise ImportError(
                "MethodComparison.figure needs matplotlib; use .picture() without it"
            ) from exc
        pic = self.picture(max_side)
        dpi = 100
        fig = plt.figure(figsize=(pic.shape[1] / dpi, pic.shape[0] / dpi), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.imshow(pic)
        ax.set_axis_off()
        return fig

    def _repr_html_(self) -> str:
        return self.table._repr_html_()


def _colorize_input(thumb: np.ndarray) -> np.ndarray:
    if thumb.ndim == 2:
        return np.repeat(thumb[:, :, None], 3, axis=2)
    return thumb.copy()


def _colorize_edges(
    thumb: np.ndarray, quad: np.ndarray | None, shape: tuple[int, int]
) -> np.ndarray:
    tile = np.full(thumb.shape + (3,), 255, np.uint8)
    tile[thumb] = 0
    if quad is not None:
        s = np.array([thumb.shape[1] / shape[1], thumb.shape[0] / shape[0]])
        pts = np.round(np.asarray(quad) * s).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(tile, [pts], True, (0, 170, 0), 2, cv2.LINE_AA)
    return tile


def _colorize_colors(codes: np.ndarray) -> np.ndarray:
    palette = np.array([[255, 255, 255], [240, 130, 130], [0, 0, 0]], np.uint8)
    return palette[codes]


# ---------------------------------------------------------------------------
# HTML page


_CSS = """
body {font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa}
h1 {font-size: 1.3em} h2 {font-size: 1.1em; margin-top: 1.6em}
table {border-collapse: collapse; background: #fff}
th, td {border: 1px solid #ccc; padding: 4px 8px; vertical-align: middle}
th {background: #eee; text-align: left}
td.n {text-align: right; font-variant-numeric: tabular-nums}
td.w {max-width: 22em; font-size: 12px; color: #8a4b00}
td.err {color: #b00020}
img {display: block; border: 1px solid #bbb; width: 260px; image-rendering: auto}
.key {color: #555; font-size: 13px}
"""

# (column title, table column, format) per stage; format None: text
_HTML_COLUMNS = {
    "edges": (
        ("find_paper ms", "seconds", "ms"),
        ("detect_edges ms", "edge_seconds", "ms"),
        ("paper found", "paper_found", None),
        ("confidence", "confidence", "{:.2f}"),
        ("paper box (x0, y0, x1, y1)", "paper_box", None),
        ("edge pixels", "edge_fraction", "{:.1%}"),
    ),
    "colors": (
        ("separate_colors ms", "seconds", "ms"),
        ("IoU vs lab/opencv", "iou", "{:.3f}"),
        ("IoU vs same space, opencv", "iou_space", "{:.3f}"),
        ("trace pixels", "trace_fraction", "{:.2%}"),
        ("grid pixels", "grid_fraction", "{:.1%}"),
        ("neutral grid", "neutral_grid", None),
    ),
}

_KEYS = {
    "edges": "Edge map (black) and the paper found (green outline).",
    "colors": "Trace mask (black) over the grid mask (red). IoU: overlap of the trace "
    "mask with that of the default conversion (lab/opencv) and with the opencv "
    "backend of the same colour space (1 = identical).",
}


def _data_uri(rgb: np.ndarray) -> str:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB array
        raise ValueError(f"OpenCV could not encode a {rgb.shape} image as PNG")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def _cell(value, fmt: str | None) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return '<td class="n">&ndash;</td>'
    if fmt == "ms":
        return f'<td class="n">{value * 1000:.1f}</td>'
    if fmt is not None:
        return f'<td class="n">{fmt.format(value)}</td>'
    if isinstance(value, bool | np.bool_):
        return f"<td>{'yes' if value else 'no'}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _html_page(cmp: MethodComparison, title: str) -> str:
    e = html.escape
    h, w = cmp.shape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Image {w} x {h} px; {len(cmp.table)} methods, each run on the whole image. "
        "Times are one run after a warm-up; with several workers they include "
        "contention for the cores.</p>",
        f'<img src="{_data_uri(_colorize_input(cmp.thumbnail))}" alt="input">',
    ]
    tiles = [tile for _, tile in cmp._tiles()]
    for stage, heading in (("edges", "Edge methods"), ("colors", "Colour space / backend")):
        rows = [(i, r) for i, r in enumerate(cmp.table.itertuples(index=False)) if r.stage == stage]
        if not rows:
            continue
        cols = _HTML_COLUMNS[stage]
        parts += [
            f"<h2>{heading}</h2>",
            f'<p class="key">{e(_KEYS[stage])}</p>',
            "<table><tr><th>picture</th><th>method</th>"
            + "".join(f"<th>{e(c)}</th>" for c, _, _ in cols)
            + "<th>warnings / error</th></tr>",
        ]
        for i, r in rows:
            d = r._asdict()
            err = d.get("error")
            failed = isinstance(err, str) and err != ""
            note = err if failed else d.get("warnings") or ""
            parts.append(
                f'<tr><td><img src="{_data_uri(tiles[i])}" alt="{e(r.method)}"></td>'
                f"<td><b>{e(r.method)}</b></td>"
                + "".join(_cell(d.get(col), fmt) for _, col, fmt in cols)
                + f'<td class="{"err" if failed else "w"}">{e(str(note))}</td></tr>'
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_comparison(
    comparison: MethodComparison,
    out_dir: str | os.PathLike,
    *,
    title: str = "ecgprep compare",
    max_side: int = 1600,
) -> tuple[Path, Path]:
    """Write ``compare.html`` (:meth:`MethodComparison.to_html`) and ``compare.png``
    (:meth:`MethodComparison.picture`) into ``out_dir`` (created if missing).

    Parameters
    ----------
    comparison : MethodComparison
        What :func:`compare_methods` returned.
    out_dir : path
        Output folder.
    title : str
        Title of the page.
    max_side : int
        Longer side of the contact sheet, pixels.

    Returns
    -------
    (Path, Path)
        The page and the picture.

    Raises
    ------
    OSError
        If the folder or the files cannot be written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    page, png = out / "compare.html", out / "compare.png"
    pic = comparison.picture(max_side)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(pic, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover
        raise OSError(f"could not encode {png}")
    png.write_bytes(buf.tobytes())
    page.write_text(comparison.to_html(title), encoding="utf-8")
    return page, png


# ---------------------------------------------------------------------------
# entry point


def _names(value, valid: Sequence[str], what: str) -> tuple[str, ...]:
    if value is None:
        return tuple(valid)
    if isinstance(value, str):
        value = (value,)
    out = tuple(value)
    bad = [v for v in out if v not in valid]
    if bad:
        raise ValueError(f"unknown {what} {bad[0]!r}; valid: {', '.join(repr(v) for v in valid)}")
    return tuple(dict.fromkeys(out))


def compare_methods(
    image: Any,
    *,
    edge_methods: Sequence[str] | None = None,
    color_spaces: Sequence[str] | None = None,
    color_backends: Sequence[str] | None = None,
    n_jobs: int | None = -1,
    thumb_side: int = 400,
) -> MethodComparison:
    """Run every edge method and every colour space x backend on one image.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8, or path / bytes / PIL image
        The image; non-arrays are read with :func:`ecgprep.load_image`. The
        methods see it as given (crop or deskew it first to compare them on what
        the pipeline's later stages see).
    edge_methods : sequence of str, optional
        Subset of :data:`ecgprep.edges.EDGE_METHODS` (default: all; ``()``: none).
    color_spaces : sequence of str, optional
        Subset of :data:`ecgprep.colors.COLOR_SPACES` (default: all; ``()``: none).
    color_backends : sequence of str, optional
        Subset of :data:`ecgprep.colors.COLOR_BACKENDS` (default: all).
    n_jobs : int or None
        joblib workers (``-1``: all cores; the backend follows
        ``joblib.parallel_config``).
    thumb_side : int
        Longer side of the thumbnails made in the workers (>= 16).

    Returns
    -------
    MethodComparison
        ``.table`` (a DataFrame, one row per method), ``.picture()`` and
        ``.figure()`` (the contact sheet).

    Raises
    ------
    InvalidImageError
        If ``image`` is an array but not a uint8 image.
    ImageLoadError
        If a non-array ``image`` cannot be read.
    ValueError
        If a method, space or backend name is unknown (the message lists the
        valid ones) or ``thumb_side`` < 16.

    Notes
    -----
    The colour references (``lab/opencv`` and ``<space>/opencv``) run first and
    send their trace masks back packed (one bit per pixel); the other
    conversions then compute their IoU against them inside the workers. Each
    method first runs once on a tiny page in its process, so that one-time costs
    (imports, OpenCV tables) do not count in its time. A method that raises
    gives a row with ``error`` set, not an exception; warnings are
    collected in the ``warnings`` column.

    Examples
    --------
    >>> from ecgprep.synth import render_ecg
    >>> cmp = compare_methods(render_ecg(dpi=60).image, color_backends=["opencv"], n_jobs=1)
    >>> cmp.table["method"].tolist()
    ['canny', 'sobel', 'laplacian', 'contour', 'lab/opencv', 'hsv/opencv']
    >>> cmp.picture(max_side=600).shape[2]
    3
    """
    from joblib import Parallel, delayed

    from .colors import COLOR_BACKENDS, COLOR_SPACES
    from .edges import EDGE_METHODS
    from .io import load_image

    img = check_image(image, "image") if isinstance(image, np.ndarray) else load_image(image)
    img = np.ascontiguousarray(img)
    e_methods = _names(edge_methods, EDGE_METHODS, "edge method")
    spaces = _names(color_spaces, COLOR_SPACES, "color space")
    backends = _names(color_backends, COLOR_BACKENDS, "color backend")
    if not isinstance(thumb_side, int | np.integer) or thumb_side < 16:
        raise ValueError(f"thumb_side must be an integer >= 16, got {thumb_side!r}")
    side = int(thumb_side)

    combos = [(s, b) for s in spaces for b in backends]
    ref_keys = list(dict.fromkeys([_DEFAULT] + [(s, "opencv") for s in spaces])) if combos else []
    others = [c for c in combos if c not in ref_keys]

    par = Parallel(n_jobs=n_jobs)
    # Phase 1: edges and the reference conversions (fast); references send packed masks.
    first = par(
        [delayed(_edge_task)(img, m, side) for m in e_methods]
        + [delayed(_color_task)(img, s, b, side, None, True) for s, b in ref_keys]
    )
    edge_out = first[: len(e_methods)]
    ref_out = dict(zip(ref_keys, first[len(e_methods) :], strict=True))
    refs = {k: v["packed"] for k, v in ref_out.items() if v["packed"] is not None}
    for k, v in ref_out.items():
        if v["packed"] is not None:
            trace = _unpack(v["packed"])
            default = refs.get(_DEFAULT)
            same = refs.get((k[0], "opencv"))
            v["row"]["iou"] = _iou(trace, _unpack(default)) if default is not None else np.nan
            v["row"]["iou_space"] = _iou(trace, _unpack(same)) if same is not None else np.nan
            v["packed"] = None
    # Phase 2: the other conversions, IoU computed in the workers.
    second = (
        par(delayed(_color_task)(img, s, b, side, refs, False) for s, b in others) if others else []
    )
    color_out = {**ref_out, **dict(zip(others, second, strict=True))}

    rows, panels = [], []
    for out in edge_out:
        r = out["row"]
        rows.append(r)
        label = r["method"]
        if "seconds" in r:
            label += f" {'paper' if r['paper_found'] else 'no paper'} {r['seconds'] * 1000:.0f}ms"
        panels.append((label, "edges", out["thumb"], out["quad"]))
    for key in combos:
        out = color_out[key]
        r = out["row"]
        rows.append(r)
        label = r["method"]
        if "seconds" in r:
            iou = r.get("iou", np.nan)
            label += (
                f" IoU {iou:.2f}" if np.isfinite(iou) else ""
            ) + f" {r['seconds'] * 1000:.0f}ms"
        panels.append((label, "colors", out["thumb"], None))
    table = pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))
    table["warnings"] = table["warnings"].fillna("")
    return MethodComparison(
        table=table,
        shape=(int(img.shape[0]), int(img.shape[1])),
        thumbnail=_thumb_image(img, side),
        panels=tuple(panels),
    )
