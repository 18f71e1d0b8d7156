"""Tests of ecgprep.viz: overlays drawn where the pipeline found things, and the gallery page."""

import re
import shutil
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest

from ecgprep import viz
from ecgprep.evaluate import Evaluation
from ecgprep.pipeline import process_image_for_submission
from ecgprep.synth import distort, render_ecg

GREEN = (0, 255, 0)


@pytest.fixture(scope="module")
def base():
    return render_ecg(seed=3, calibration_pulse=True)


@pytest.fixture(scope="module")
def clean(base):
    return base, process_image_for_submission(base.image, image_id="clean")


@pytest.fixture(scope="module")
def rotated(base):
    # No background: the paper fills the frame, the deskew stage rotates the page.
    r = distort(base, rotate_deg=3.0, seed=1)
    return r, process_image_for_submission(r.image, image_id="rotated")


@pytest.fixture(scope="module")
def photo(base):
    # A page on a dark background: cropped and rectified by the edges stage.
    r = distort(base, rotate_deg=-2.5, perspective=0.02, background="dark", seed=2)
    return r, process_image_for_submission(r.image, image_id="photo")


@pytest.fixture(scope="module")
def failed():
    img = np.full((600, 800, 3), 255, np.uint8)
    res = process_image_for_submission(img, image_id="blank")
    return img, res


def _green(pic):
    r, g, b = (pic[..., i].astype(int) for i in range(3))
    return (g >= 180) & (r <= 120) & (b <= 120)


def _trace_agreement(render, pic, k=2):
    """(precision, recall): drawn trace pixels near the true ink; true samples near drawn pixels."""
    drawn = _green(pic)
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
    ink = cv2.dilate(render.truth.trace_mask.astype(np.uint8), ker) > 0
    precision = (drawn & ink).sum() / max(int(drawn.sum()), 1)
    near = cv2.dilate(drawn.astype(np.uint8), ker) > 0
    # Every printed panel but the short lead II one (its signal comes from the rhythm strip).
    pts = np.concatenate(
        [render.truth.lead_xy(lt) for lt in render.truth.leads if lt.is_rhythm or lt.name != "II"]
    )
    h, w = drawn.shape
    xi = np.clip(np.round(pts[:, 0]).astype(int), 0, w - 1)
    yi = np.clip(np.round(pts[:, 1]).astype(int), 0, h - 1)
    return float(precision), float(near[yi, xi].mean())


def test_overlay_shape_dtype_and_downscale(clean):
    r, res = clean
    out = viz.overlay(r.image, res)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert max(out.shape[:2]) == 1600
    assert out.shape[:2] == (round(1700 * 1600 / 2200), 1600)
    assert out.flags.c_contiguous
    full = viz.overlay(r.image, res, max_side=None)
    assert full.shape == r.image.shape
    # Something was drawn in the trace colour.
    assert (np.abs(full.astype(int) - viz.COLORS["trace"]).sum(axis=2) < 60).sum() > 10_000


@pytest.mark.parametrize("case", ["clean", "rotated", "photo"])
def test_traces_drawn_on_the_true_ink(case, request):
    render, res = request.getfixturevalue(case)
    assert res.ok, res.error
    pic = viz.overlay(
        render.image, res, layers=("traces",), legend=False, max_side=None, trace_color=GREEN
    )
    precision, recall = _trace_agreement(render, pic)
    assert precision > 0.9, (case, precision)
    assert recall > 0.95, (case, recall)


def test_trace_check_has_teeth(clean, rotated):
    # The clean page's traces drawn over the rotated page miss its ink.
    r_rot, _ = rotated
    r_clean, res_clean = clean
    pic = viz.overlay(
        r_clean.image, res_clean, layers=("traces",), legend=False, max_side=None, trace_color=GREEN
    )
    precision, recall = _trace_agreement(r_rot, pic)
    assert precision < 0.6 and recall < 0.6


def test_grid_lines_on_the_major_lines(clean, monkeypatch):
    r, res = clean
    monkeypatch.setitem(viz.COLORS, "grid", GREEN)
    # Drawn over a white page of the same size (the printed grid would hide the drawn one).
    pic = viz.overlay(
        np.full_like(r.image, 255), res, layers=("grid",), legend=False, max_side=None
    )
    r_, g_, b_ = (pic[..., i].astype(float) for i in range(3))
    green = np.clip(g_ - np.maximum(r_, b_), 0, None)
    ppm = r.truth.px_per_mm
    h, w = green.shape

    def lines(profile):
        # Antialiased 1 px lines: a peak over one or two pixels; centroid of the 3 around it.
        p = np.pad(profile, 1)
        peak = (p[1:-1] > 20) & (p[1:-1] >= p[:-2]) & (p[1:-1] > p[2:])
        i = np.flatnonzero(peak)
        win = np.stack([p[i], p[i + 1], p[i + 2]])
        return i + (win * np.array([[-1.0], [0.0], [1.0]])).sum(axis=0) / win.sum(axis=0)

    cols, rows = lines(green.mean(axis=0)), lines(green.mean(axis=1))
    # Major lines of the render: x = 5k mm from the left, y = 5k mm from the bottom edge.
    true_x = np.arange(0, w / ppm, 5.0) * ppm
    true_y = (215.9 - np.arange(0, h / ppm, 5.0)) * ppm
    true_x, true_y = true_x[true_x < w - 1], true_y[(true_y > 0) & (true_y < h - 1)]
    assert cols.size > 40 and rows.size > 30
    assert np.abs(cols[:, None] - true_x[None, :]).min(axis=1).max() <= 1.0
    assert np.abs(rows[:, None] - true_y[None, :]).min(axis=1).max() <= 1.0
    found_x = np.abs(true_x[:, None] - cols[None, :]).min(axis=1) <= 1.0
    assert found_x.mean() > 0.95


def test_failed_result_gets_a_red_banner(failed):
    img, res = failed
    assert not res.ok and res.failed_stage == "grid"
    out = viz.overlay(img, res)
    assert out.shape == img.shape
    top = out[:20].reshape(-1, 3).astype(int)
    red = (top[:, 0] > 150) & (top[:, 1] < 110) & (top[:, 2] < 110)
    assert red.mean() > 0.5
    # Between the banner and the legend the blank page stays white: nothing else was found.
    assert out[150:-80].min() >= 250
    assert not (viz.overlay(img, res, legend=False)[150:] < 250).any()


def test_overlay_refuses_bad_input(clean, failed):
    r, res = clean
    img, _ = failed
    with pytest.raises(ValueError, match="computed on"):
        viz.overlay(img, res)
    with pytest.raises(ValueError, match="unknown layer"):
        viz.overlay(r.image, res, layers=("grid", "gird"))
    with pytest.raises(ValueError, match="max_side"):
        viz.overlay(r.image, res, max_side=0)
    with pytest.raises(ValueError, match="trace_color"):
        viz.overlay(r.image, res, trace_color=(0, 300, 0))
    with pytest.raises(TypeError, match="ImageResult"):
        viz.overlay(r.image, {"ok": True})


def test_save_overlay_and_cli_inspect(failed, tmp_path):
    img, res = failed
    src = tmp_path / "blank.png"
    cv2.imwrite(str(src), img)
    out = viz.save_overlay(str(src), res, tmp_path / "o.png")
    back = cv2.imread(str(out))
    assert back is not None and back.shape == img.shape
    jpg = viz.save_overlay(img, res, str(tmp_path / "o.jpg"), max_side=400)
    assert cv2.imread(str(jpg)).shape == (300, 400, 3)
    with pytest.raises(ValueError, match="png"):
        viz.save_overlay(img, res, tmp_path / "o.gif")
    from ecgprep.cli import main

    assert (
        main(["inspect", str(src), "--out", str(tmp_path / "cli.png")]) == 1
    )  # the blank page fails
    assert cv2.imread(str(tmp_path / "cli.png")).shape == img.shape


def test_overlay_figure(clean):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    r, res = clean
    fig = viz.overlay_figure(r.image, res, max_side=800)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1 and fig.axes[0].images[0].get_array().shape[:2] == (618, 800)


def _gallery_inputs(clean, failed):
    (r, res), (img, bad) = clean, failed
    return [res, bad], [r.image, img]


def test_gallery_html_cards_scores_offline(clean, failed):
    results, images = _gallery_inputs(clean, failed)
    page = viz.gallery_html(
        results,
        images=images,
        scores={"clean": 18.25, "blank": float("-inf")},
        title="Tést <gallery>",
    )
    assert page.startswith("<!DOCTYPE html>")
    assert len(re.findall(r'<div class="eg-card\b', page)) == 2
    assert 'class="eg-card eg-failed"' in page and 'class="eg-card eg-ok"' in page
    assert "18.2 dB" in page and "-inf" in page
    assert "Tést &lt;gallery&gt;" in page  # escaped
    assert "blank" in page and "grid failed" in page
    assert page.count('src="data:image/jpeg;base64,') == 2
    # Nothing fetched from anywhere: no URL in any src/href, none at all in the page.
    for m in re.finditer(r'\b(?:src|href)\s*=\s*["\']?([^"\'\s>]*)', page):
        assert m.group(1).startswith("data:") or m.group(1).startswith("#"), m.group(1)[:40]
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    # Thumbnails are at most 480 px wide.
    widths = [int(w) for w in re.findall(r'<img class="eg-thumb"[^>]*width="(\d+)"', page)]
    assert widths and max(widths) <= 480
    # The style and script come from the package's gallery.css and gallery.js, filled in.
    gid = re.search(r'<div id="(ecgprep-gallery-[0-9a-f]{8})"', page).group(1)
    assert f"#{gid} .eg-cards {{display: grid;" in page
    assert "minmax(min(100%, 314px), 494px)" in page
    assert f'document.getElementById("{gid}")' in page
    assert not re.search(r"\{(?:gid|minw|maxw)\}", page)
    assert "Python fills in" not in page  # the files' header comments are left out


def test_gallery_object_and_write_gallery_from_evaluation(failed, tmp_path):
    img, bad = failed
    g = viz.gallery([bad], images=[img])
    assert g._repr_html_().startswith('<div id="ecgprep-gallery-')
    assert "<html" not in g._repr_html_()
    assert g.save(tmp_path / "g.html").read_text(encoding="utf-8") == g.page()
    # As ecgprep.demo calls it: an Evaluation and its folder (images/<id>.png).
    (tmp_path / "data" / "images").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "data" / "images" / "blank.png"), img)
    per_record = pd.DataFrame(
        {
            "id": ["blank", "gone"],
            "difficulty": ["clean", "photo"],
            "snr_db": [-3.5, np.nan],
            "ok": [False, False],
        }
    )
    by = pd.DataFrame(
        {
            "difficulty": ["clean", "photo", "ALL"],
            "n": [1, 1, 2],
            "score_db": [-3.5, 0.0, -1.2],
            "failed": [1, 1, 2],
        }
    )
    frames = dict(
        per_record=per_record,
        by_difficulty=by,
        per_lead=pd.DataFrame(),
        summary=pd.DataFrame(),
        submission=pd.DataFrame(),
    )
    # The evaluation's results (the images found) are drawn; an id without one gets a placeholder.
    ev = Evaluation(score_db=-1.25, results=[bad], **frames)
    out = viz.write_gallery(ev, tmp_path / "data", tmp_path / "gallery.html", n_jobs=1)
    page = out.read_text(encoding="utf-8")
    assert len(re.findall(r'<div class="eg-card\b', page)) == 2
    assert re.search(r'data-id="gone".*no image file', page)
    assert "-1.25 dB" in page and "-3.5 dB" in page and "grid failed" in page
    assert page.count('src="data:image/jpeg;base64,') == 1
    assert "<title>ecgprep evaluation</title>" in page
    # gallery() takes the evaluation itself, its scores by default.
    g_ev = viz.gallery(ev, images=tmp_path / "data", title="ecgprep evaluation", n_jobs=1)
    assert g_ev.page() == page
    # viz draws results, it never runs the pipeline: an evaluation without results is refused.
    with pytest.raises(ValueError, match="no results"):
        viz.write_gallery(
            Evaluation(score_db=-1.25, results=None, **frames),
            tmp_path / "data",
            tmp_path / "none.html",
            n_jobs=1,
        )
    assert not (tmp_path / "none.html").exists()


def test_gallery_shows_the_verdict(clean, failed):
    """A suspect reading gets a badge and its reasons; a clean one its confidence only."""
    import dataclasses

    from ecgprep.verdict import Verdict

    (r, res), (img, bad) = clean, failed
    why = ("Einthoven's law broken (residual 0.92)", "grid confidence 0.31")
    leads = dict.fromkeys(res.lead_confidence, 0.9) | {"V3": 0.1}
    own = {"V3": ("a flat line (0.01 mV peak to peak)",)}
    doubted = dataclasses.replace(
        res, image_id="doubted", verdict=Verdict(0.12, True, why, leads, lead_reasons=own)
    )
    page = viz.gallery_html([res, doubted, bad], images=[r.image, r.image, img])
    cards = re.findall(
        r'<div class="eg-card\b.*?(?=<div class="eg-card\b|</div></div><script)', page
    )
    assert len(cards) == 3
    good, flagged, failed_card = cards
    assert "eg-suspect" not in good and "eg-b-suspect" not in good
    assert "confidence</dt><dd>1.00" in good and "3x4+1" in good and "25 mm/s / 10 mm/mV" in good
    assert 'class="eg-card eg-ok eg-suspect"' in flagged
    assert '<span class="eg-badge eg-b-suspect"' in flagged and ">suspect</span>" in flagged
    assert (
        "Einthoven&#x27;s law broken (residual 0.92)" in flagged
        and "grid confidence 0.31" in flagged
    )
    assert "confidence</dt><dd>0.12" in flagged
    assert "V3 0.10 (a flat line (0.01 mV peak to peak))" in flagged  # the weakest lead's reasons
    assert "eg-b-suspect" not in failed_card  # a failure is marked failed, with its error
    assert '<button data-filter="suspect">suspect (1)</button>' in page
    assert "<b>1</b> of them suspect" in page
    # The overlay's banner says it too.
    from ecgprep.viz.overlay import _status_lines

    assert _status_lines(doubted)[0][1] == "SUSPECT: " + "; ".join(why)
    assert not any("SUSPECT" in line for line in _status_lines(res)[0])


def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.slow
def test_gallery_in_headless_chromium(clean, failed, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    results, images = _gallery_inputs(clean, failed)
    page = tmp_path / "gallery.html"
    viz.gallery(results, images=images, scores={"clean": 18.25, "blank": float("-inf")}).save(page)
    shot = tmp_path / "shot.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1200,1600",
    ]
    url = page.resolve().as_uri()
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    m_loaded = re.search(r'data-loaded="(\d+)"', dom.stdout)
    m_images = re.search(r'data-images="(\d+)"', dom.stdout)
    assert m_images is not None and int(m_images.group(1)) == 2
    assert m_loaded is not None, "the page's script did not run"
    assert int(m_loaded.group(1)) == 2
    # The page logs nothing: any console message is an error (a script error, a CSP refusal...).
    console = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, console
    snap = subprocess.run(
        [browser, *flags, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120
    )
    assert snap.returncode == 0, snap.stderr[-2000:]
    pic = cv2.imread(str(shot))
    assert pic is not None and pic.shape[:2] == (1600, 1200)
    assert pic.std() > 20  # not a blank page
    # The filter and the ordering: sort worst first, show only the failed cards.
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace(
            "</body>",
            """<script>window.addEventListener("load", function () {
  var root = document.querySelector(".ecgprep-gallery");
  var sel = root.querySelector("select.eg-sort");
  sel.value = "score";
  sel.dispatchEvent(new Event("change"));
  root.querySelector('button[data-filter="failed"]').click();
  var seen = Array.prototype.map.call(root.querySelectorAll(".eg-card"), function (c) {
    return c.getAttribute("data-id") + ":" + getComputedStyle(c).display;
  });
  document.body.setAttribute("data-seen", seen.join(","));
});</script></body>""",
        ),
        encoding="utf-8",
    )
    run = subprocess.run(
        [browser, *flags, "--dump-dom", probe.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 'data-seen="blank:block,clean:none"' in run.stdout, run.stdout[-500:]


def test_a_strips_banner_and_legend_are_drawn_beside_it_not_over_it():
    # a strip of one row, 1800 x 260 px: three banner lines and the legend would
    # hide a third of it
    img = np.ascontiguousarray(render_ecg(seed=4).image[620:880, 200:2000])
    res = process_image_for_submission(img, image_id="strip")
    out = viz.overlay(img, res, max_side=None)
    h, w = img.shape[:2]
    assert out.shape[1] == w and out.shape[0] > h
    drawn = [layer for layer in viz.LAYERS if layer != "banner"]
    plain = viz.overlay(img, res, max_side=None, layers=drawn, legend=False)
    assert plain.shape == img.shape  # nothing to draw beside it
    # the picture sits between the bands, as drawn without them
    top = next(i for i in range(out.shape[0]) if np.array_equal(out[i], plain[0]))
    assert 0 < top and np.array_equal(out[top : top + h], plain)
    # a page keeps its size
    page = render_ecg(seed=4).image
    assert viz.overlay(page, process_image_for_submission(page)).shape[:2] == (1236, 1600)
