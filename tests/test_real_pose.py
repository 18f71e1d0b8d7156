"""The benchmark script ``benchmarks/real_pose.py``: its page variants and a tiny run.

The script lives beside the package, not in the wheel; it is imported here from
its file. Its pages are real printouts kept out of the repository: the run here
reads a render.
"""

import numpy as np
import pytest
from PIL import Image

from ecgprep.synth import render_ecg


@pytest.fixture(scope="module")
def pose(load_benchmark):
    return load_benchmark("real_pose")


def test_variants_move_the_pixels_as_named(pose):
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[0, 0] = 255  # a mark at the top left
    assert pose.variant(rgb, "orig") is rgb
    turned = pose.variant(rgb, "rot180")
    assert turned.shape == rgb.shape and turned[-1, -1, 0] == 255
    assert pose.variant(rgb, "rot90").shape == (60, 40, 3)
    tilted = pose.variant(rgb, "tilt10")
    assert tilted.shape[0] > 40 and tilted.shape[1] > 60  # the whole page kept
    assert tuple(tilted[0, 0]) == pose.WHITE
    assert tuple(pose.variant(rgb, "desk10")[0, 0]) == pose.DESK
    assert pose.variant(rgb, "scale0.5").shape == (20, 30, 3)
    assert pose.variant(rgb, "jpeg50").shape == rgb.shape


def test_photo_variants_keep_the_frame_and_change_what_they_name(pose):
    rgb = np.full((40, 60, 3), 200, np.uint8)
    rgb[20, :] = 0  # a black line across the middle
    persp = pose.variant(rgb, "persp20")
    assert persp.shape == rgb.shape
    assert tuple(persp[0, 0]) == pose.DESK and tuple(persp[-1, 0]) != pose.DESK
    shaded = pose.variant(rgb, "shade50")
    assert shaded[5, 0, 0] == 200 and shaded[5, -1, 0] == 100
    blurred = pose.variant(rgb, "blur2")
    assert blurred.shape == rgb.shape and 0 < blurred[20, 30, 0] < 200


def test_an_unknown_variant_lists_the_valid_ones(pose):
    with pytest.raises(ValueError, match=r"unknown variant 'spin'; valid: orig, rot180"):
        pose.variant(np.zeros((4, 4, 3), np.uint8), "spin")


def test_a_run_reads_each_variant_and_counts_the_wrong_ones(pose, tmp_path, capsys):
    folder = tmp_path / "pages"
    folder.mkdir()
    Image.fromarray(render_ecg(seed=2).image).save(folder / "page.png")
    assert pose.main([str(folder), "--variants", "orig,rot180", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "rot180" in out and "3x4+1:II" in out
    assert "read: 2 of 2; unflagged readings over 3 dB under their page's upright one: 0" in out
