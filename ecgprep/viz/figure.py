"""The overlay as a matplotlib figure (needs the ``viz`` extra)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..options import Options
from .overlay import _LEGEND, COLORS, overlay

__all__ = ["overlay_figure"]


def overlay_figure(
    image: Any,
    result,
    *,
    options: Options | Mapping[str, Any] | None = None,
    max_side: int | None = 1600,
    width_in: float = 12.0,
):
    """:func:`overlay` as a matplotlib Figure (shows inline in a notebook).

    Needs matplotlib (``pip install ecgprep[viz]``). The figure is made without
    pyplot, so no window opens and no global figure is left behind.

    Parameters
    ----------
    image, result, options, max_side
        As :func:`overlay`.
    width_in : float
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        matplotlib is not installed.
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "overlay_figure needs matplotlib: pip install 'ecgprep[viz]' "
            "(or pip install matplotlib); "
            "overlay() and save_overlay() work without it"
        ) from exc
    pic = overlay(image, result, options=options, max_side=max_side, legend=False)
    h, w = pic.shape[:2]
    fig = Figure(figsize=(width_in, width_in * h / w + 0.6), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(pic, interpolation="antialiased")
    ax.set_axis_off()
    status = "ok" if result.ok else f"failed at {result.failed_stage}"
    ax.set_title(f"{result.image_id}: {status}", fontsize=11)
    handles = [
        Line2D([], [], color=np.array(COLORS[k]) / 255.0, lw=2, label=lab) for k, lab in _LEGEND
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False
    )
    return fig
