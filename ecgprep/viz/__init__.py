"""Pictures of what the pipeline found: overlays on the input image and a gallery of a batch.

:func:`overlay` / :func:`save_overlay` (:mod:`~ecgprep.viz.overlay`) draw, over
the picture the pipeline was given, the paper, grid, panels, pulses and the
digitized traces; :func:`overlay_figure` (:mod:`~ecgprep.viz.figure`) gives the
same as a matplotlib figure (the ``viz`` extra). :func:`gallery`,
:func:`gallery_html` and :func:`write_gallery` (:mod:`~ecgprep.viz.gallery`) put
the overlays of a batch on one static HTML page. viz draws the results it is
given (a BatchResults, a list of ImageResult, or an Evaluation holding its
results); it never runs the pipeline.
"""

from __future__ import annotations

from .figure import overlay_figure
from .gallery import Gallery, gallery, gallery_html, write_gallery
from .overlay import COLORS, LAYERS, overlay, save_overlay

__all__ = [
    "COLORS",
    "LAYERS",
    "Gallery",
    "gallery",
    "gallery_html",
    "overlay",
    "overlay_figure",
    "save_overlay",
    "write_gallery",
]
