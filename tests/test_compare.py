"""Methods side by side on one synthetic render."""

import dataclasses

import cv2
import numpy as np
import pytest

from ecgprep.colors import COLOR_BACKENDS, COLOR_SPACES
from ecgprep.compare import COMPARE_COLUMNS, MethodComparison, compare_methods, write_comparison
from ecgprep.edges import EDGE_METHODS
from ecgprep.errors import InvalidImageError
from ecgprep.synth import distort, render_ecg


@pytest.fixture(scope="module")
def render():
    # a page on a dark background, so that the edge methods have a paper to find
    return distort(render_ecg(dpi=100, seed=4), background="dark", background_margin=0.1, seed=5)


@pytest.fixture(scope="module")
def cmp(render):
    return compare_methods(render.image, n_jobs=2)


def test_one_row_per_method(cmp):
    assert isinstance(cmp, MethodComparison)
    t = cmp.table
    assert list(t.columns) == list(COMPARE_COLUMNS)
    combos = [f"{s}/{b}" for s in COLOR_SPACES for b in COLOR_BACKENDS]
    assert t["method"].tolist() == list(EDGE_METHODS) + combos
    assert t["stage"].tolist() == ["edges"] * len(EDGE_METHODS) + ["colors"] * len(combos)
    assert t["error"].isna().all(), t["error"].tolist()
    assert t["seconds"].notna().all()  # every method was timed (a failed one is NaN)


def test_edges_find_the_paper(cmp, render):
    e = cmp.table[cmp.table.stage == "edges"]
    assert e["paper_found"].all()
    quad = render.truth.paper_quad
    for box in e["paper_box"]:
        assert abs(box[0] - quad[:, 0].min()) < 10 and abs(box[3] - quad[:, 1].max()) < 10
    assert ((e["edge_fraction"] > 0) & (e["edge_fraction"] < 0.2)).all()
    assert (e["confidence"] >= 0.9).all()  # a white page on a dark background


def test_color_ious(cmp, render):
    c = cmp.table[cmp.table.stage == "colors"].set_index("method")
    assert c.loc["lab/opencv", "iou"] == 1.0
    for s in COLOR_SPACES:
        for b in COLOR_BACKENDS:
            assert c.loc[f"{s}/{b}", "iou_space"] >= 0.9, (s, b)
    assert (c["iou"] >= 0.8).all()
    # the trace mask also holds labels and separators (trace ink): at least the truth's traces
    truth = render.truth.trace_mask.mean()
    assert ((c["trace_fraction"] > truth) & (c["trace_fraction"] < 3 * truth)).all()
    assert np.allclose(c["trace_fraction"], c.loc["lab/opencv", "trace_fraction"], rtol=0.1)


def test_picture(cmp):
    pic = cmp.picture(max_side=900)
    assert pic.dtype == np.uint8 and pic.ndim == 3 and pic.shape[2] == 3
    assert max(pic.shape[:2]) <= 900 and min(pic.shape[:2]) > 200
    assert pic.min() == 0 and pic.max() == 255  # ink and paper are both there
    big = cmp.picture(max_side=5000, columns=11)
    # 11 panels (input + 10 methods) in one row of 400-px thumbnails
    assert big.shape[1] > 11 * 400 > big.shape[0]
    with pytest.raises(ValueError):
        cmp.picture(max_side=10)


def test_figure(cmp):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = cmp.figure(max_side=600)
    assert len(fig.axes) == 1
    plt.close(fig)


def test_subsets_in_process():
    img = render_ecg(dpi=60, seed=2).image
    c = compare_methods(
        img, edge_methods=["sobel"], color_spaces="hsv", color_backends=("pillow",), n_jobs=1
    )
    assert c.table["method"].tolist() == ["sobel", "hsv/pillow"]
    row = c.table.iloc[1]
    assert row["iou_space"] >= 0.9 and row["iou"] >= 0.8  # hsv traces against lab/opencv
    assert len(c.panels) == 2
    none = compare_methods(img, edge_methods=(), color_spaces=(), n_jobs=1)
    assert len(none.table) == 0 and none.picture().shape[2] == 3


def test_bad_input():
    img = render_ecg(dpi=60, seed=2).image
    with pytest.raises(ValueError, match="canny"):
        compare_methods(img, edge_methods=["cany"])
    with pytest.raises(ValueError, match="lab"):
        compare_methods(img, color_spaces=["rgb"])
    with pytest.raises(ValueError, match="opencv"):
        compare_methods(img, color_backends=["cv"])
    with pytest.raises(InvalidImageError):
        compare_methods(img.astype(np.float32))
    with pytest.raises(ValueError):
        compare_methods(img, thumb_side=4)


def test_write_comparison_page_and_picture(cmp, tmp_path):
    page, png = write_comparison(cmp, tmp_path / "new" / "dir", title="render <4>", max_side=800)
    assert (page.name, png.name) == ("compare.html", "compare.png")
    assert page.parent == png.parent == tmp_path / "new" / "dir"
    text = page.read_text(encoding="utf-8")
    for method in cmp.table["method"]:
        assert f"<b>{method}</b>" in text, method
    # self-contained: the input and one picture per method, inline; nothing fetched
    assert text.count('src="data:image/png;base64,') == 1 + len(cmp.table)
    assert "http" not in text and "<script" not in text
    assert "<title>render &lt;4&gt;</title>" in text
    for head in ("find_paper ms", "separate_colors ms", "IoU vs lab/opencv", "paper found"):
        assert head in text
    lab = cmp.table.set_index("method").loc["lab/opencv"]
    assert f'<td class="n">{lab["seconds"] * 1000:.1f}</td>' in text
    pic = cv2.imread(str(png))
    assert pic is not None and pic.shape == cmp.picture(800).shape


def test_page_shows_a_failed_method(cmp):
    table = cmp.table.astype({"error": object, "paper_found": object})
    table.loc[0, ["seconds", "paper_found", "error"]] = [np.nan, None, "RuntimeError: <boom>"]
    panels = ((cmp.panels[0][0], "edges", None, None),) + cmp.panels[1:]
    text = dataclasses.replace(cmp, table=table, panels=panels).to_html()
    assert '<td class="err">RuntimeError: &lt;boom&gt;</td>' in text
    assert text.count("data:image/png;base64,") == 1 + len(table)  # a crossed-out tile


def test_thumbnails_keep_one_pixel_lines():
    from ecgprep.compare import _thumb_mask

    mask = np.zeros((900, 1200), bool)
    mask[450, :] = True  # a 1 px edge or trace, 6x shrunk: rounded away before
    mask[:, 301] = True
    thumb = _thumb_mask(mask, 200)
    assert thumb.shape == (150, 200)
    assert thumb.any(axis=0).all() and thumb.any(axis=1).all()
    assert thumb.mean() < 0.02
