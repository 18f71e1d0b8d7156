import math

import pytest

from ecgprep import Options, OptionsError, as_options


def test_defaults_are_valid_and_frozen():
    o = Options()
    assert o.layout == "3x4+1"
    with pytest.raises(AttributeError):
        o.layout = "6x2"  # type: ignore[misc]


def test_dict_and_options_are_equivalent():
    assert as_options({"edge_method": "sobel"}) == Options(edge_method="sobel")
    assert as_options(None) == Options()
    o = Options(min_dpi=120.0)
    assert as_options(o) is o


def test_unknown_key_is_named():
    with pytest.raises(OptionsError, match="edge_methd") as info:
        as_options({"edge_methd": "canny"})
    assert "edge_method" in str(info.value)  # the valid names are listed
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "key, value",
    [
        ("min_dpi", float("nan")),
        ("min_dpi", -1.0),
        ("signal_fs", 0),
        ("signal_fs", 1e9),
        ("gain", math.inf),
        ("max_pixels", 1.5),
        ("opencv_threads", 0),
        ("min_contrast", 2.0),
        ("crop", "yes"),
        ("reuse_memory", 1),
        ("min_sharpness", "high"),
    ],
)
def test_bad_values_are_named(key, value):
    with pytest.raises(OptionsError, match=key):
        as_options({key: value})


@pytest.mark.parametrize(
    "key, bad",
    [
        ("edge_method", "prewitt"),
        ("color_space", "xyz"),
        ("color_backend", "gimp"),
        ("layout", "2x6"),
    ],
)
def test_unknown_method_lists_valid_ones(key, bad):
    with pytest.raises(OptionsError) as info:
        as_options({key: bad})
    msg = str(info.value)
    assert bad in msg and "valid" in msg


def test_replace_validates():
    o = Options().replace(layout="6x2")
    assert o.layout == "6x2"
    with pytest.raises(OptionsError):
        Options().replace(nonsense=1)


def test_to_dict_round_trips():
    o = Options(edge_method="contour", min_dpi=140.0)
    assert as_options(o.to_dict()) == o
