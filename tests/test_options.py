import math

import pytest

from ecgprep import Options, OptionsError, as_options


def test_defaults_are_valid_and_frozen():
    o = Options()
    # layout, speed and gain are found on the page unless named
    assert (o.layout, o.paper_speed, o.gain) == ("auto", "auto", "auto")
    with pytest.raises(AttributeError):
        o.layout = "6x2"  # type: ignore[misc]


@pytest.mark.parametrize(
    "layout", ["3x4+1", "3x4+2", "3x4+3", "6x2+1", "12x1", "3x4+3:V1,II,V5", "3x4+1:V5"]
)
def test_named_layouts_and_rhythm_orders_are_accepted(layout):
    assert Options(layout=layout).layout == layout


@pytest.mark.parametrize("layout", ["3x5", "3x4:II", "3x4+2:II", "3x4+1:X", "auto:II", ""])
def test_bad_layout_names_the_valid_ones(layout):
    with pytest.raises(OptionsError, match="valid: 'auto', '3x4\\+1'.*after a colon"):
        Options(layout=layout)


@pytest.mark.parametrize("key", ["paper_speed", "gain"])
def test_speed_and_gain_take_a_number_or_auto(key):
    assert getattr(Options(**{key: 50.0}), key) == 50.0
    assert getattr(Options(**{key: "auto"}), key) == "auto"
    with pytest.raises(OptionsError, match=f"option {key} must be a number or 'auto', got 'fast'"):
        Options(**{key: "fast"})


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
