"""Conversion to mV: each row's followed trace into its panels' signals.

The rows' points (:class:`_Track`) are cleared of strokes that belong to the
neighbouring row (:func:`own_strokes`), measured in mV from the row's baseline
(the mode of its trace, :func:`_mode`) and sampled per panel on a uniform time
axis (:func:`_panel_values`, which also carries a panel's ends on; :func:`_bridged`
counts the time bridged rather than read). The rhythm strips are named after the
short panel they repeat (:func:`name_rhythm_strips`) and each lead keeps its
longest segment (:func:`_assemble`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validate import line_fit
from ..signals import LeadSignal
from .layout import Panel

__all__ = ["own_strokes", "name_rhythm_strips", "shared_points"]

#: Bin of the histogram a row's baseline is the peak of (px): half a pixel, as
#: the trace's points are read to a fraction of one.
MODE_BIN_PX = 0.5
#: Bins the histogram is smoothed over (a running mean) before its peak is taken.
MODE_SMOOTH_BINS = 5
#: Stretch of trace nearest a panel's end whose slope carries the trace on over
#: the columns a separator tick hides (s: 1.5 mm at 25 mm/s) ...
EDGE_SLOPE_S = 0.06
#: ... when it holds this many points at least ...
EDGE_MIN_POINTS = 3
#: ... the slope fitted over the part of it (1 / this) nearest the end ...
EDGE_SLOPE_PART = 3
#: ... and carried on at this share of it: the hidden stretch is short and often
#: turns (a QRS apex); half scored best on the development renders, against
#: holding flat or the full slope.
EDGE_SLOPE_SHARE = 0.5


def _mode(values: np.ndarray, bin_px: float = MODE_BIN_PX) -> float:
    """Most frequent value (histogram peak, lightly smoothed): the isoelectric line."""
    if values.size == 0:
        return 0.0
    lo, hi = float(values.min()), float(values.max())
    nb = max(int((hi - lo) / bin_px) + 1, 1)
    hist, edges = np.histogram(values, bins=nb, range=(lo, hi + bin_px))
    if nb >= MODE_SMOOTH_BINS:
        hist = np.convolve(hist, np.ones(MODE_SMOOTH_BINS) / MODE_SMOOTH_BINS, mode="same")
    i = int(np.argmax(hist))
    return float(0.5 * (edges[i] + edges[i + 1]))


def _catmull_rom(ts: np.ndarray, t: np.ndarray, v: np.ndarray, linear: np.ndarray) -> np.ndarray:
    """Cubic (Catmull-Rom) interpolation of ``(t, v)`` at ``ts``.

    Linear interpolation between the columns' points cuts every bend short (by
    ``y'' / 8`` of a column's spacing squared midway): at a QRS apex, about half
    a pixel. The cubic through four equally spaced points follows the bend. Where
    the four points are not equally spaced (a gap, a column left out) or ``ts``
    lies outside ``t``, ``linear`` is kept.

    Parameters
    ----------
    ts : (n,) float ndarray
        Times wanted.
    t : (k,) float ndarray
        Increasing times of the points, ``k >= 4``.
    v : (k,) float ndarray
        Values of the points.
    linear : (n,) float ndarray
        Linear interpolation at ``ts`` (``np.interp(ts, t, v)``).

    Returns
    -------
    (n,) float ndarray
    """
    i = np.clip(np.searchsorted(t, ts, side="right") - 1, 1, t.size - 3)
    h = t[i + 1] - t[i]
    tol = 1e-6 * np.abs(h)
    even = (
        (h > 0)
        & (np.abs(t[i] - t[i - 1] - h) <= tol)
        & (np.abs(t[i + 2] - t[i + 1] - h) <= tol)
        & (ts >= t[i])
        & (ts <= t[i + 1])
    )
    u = np.where(even, (ts - t[i]) / np.where(h > 0, h, 1.0), 0.0)
    p0, p1, p2, p3 = v[i - 1], v[i], v[i + 1], v[i + 2]
    cubic = p1 + 0.5 * u * (
        (p2 - p0) + u * ((2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) + u * (3.0 * (p1 - p2) + p3 - p0))
    )
    return np.where(even, cubic, linear)


def _panel_values(
    ts: np.ndarray, t: np.ndarray, v: np.ndarray, *, fill: tuple[bool, bool] = (False, False)
) -> np.ndarray:
    """Values at times ``ts`` from points ``(t, v)`` of one panel.

    Inside, cubic interpolation (:func:`_catmull_rom`). At the panel's ends, where
    a separator tick hides the first and last few columns, the trace is extended
    along the slope of its nearest 1.5 mm (clamped to the panel's own range)
    rather than held flat, so a QRS cut by the tick keeps part of its edge (half
    the slope scored best on the development renders, against holding flat or the
    full slope). Where a separator bar hid the start or the end (``fill``: start,
    end) and the trace next to it is found again in the panel's own beats, that
    end is filled from them instead (:func:`_filled_from_beats`).
    """
    if t.size < 2:
        return np.zeros(ts.size)
    vals = np.interp(ts, t, v)
    if t.size >= 4:
        vals = _catmull_rom(ts, t, v, vals)
    lo, hi = float(v.min()), float(v.max())
    span = EDGE_SLOPE_S
    for edge, inside in ((t[0], ts < t[0]), (t[-1], ts > t[-1])):
        if not inside.any():
            continue
        near = np.abs(t - edge) <= span
        if near.sum() < EDGE_MIN_POINTS:
            continue
        tn, vn = t[near], v[near]
        # Slope of the stretch nearest the edge (a third of the window).
        k = max(2, tn.size // EDGE_SLOPE_PART)
        seg_t = tn[:k] if edge == t[0] else tn[-k:]
        seg_v = vn[:k] if edge == t[0] else vn[-k:]
        if np.ptp(seg_t) <= 0:
            continue
        slope = line_fit(seg_t, seg_v)[0]
        base = v[0] if edge == t[0] else v[-1]
        # Half the slope: the hidden stretch is short and often turns (QRS apex).
        vals[inside] = np.clip(base + EDGE_SLOPE_SHARE * slope * (ts[inside] - edge), lo, hi)
    return _filled_from_beats(ts, vals, float(t[0]), float(t[-1]), fill=fill)


#: Length of the trace next to a hidden end that is looked for again in the
#: panel's own beats (s): a QRS's up- or down-stroke. 0.03-0.06 s scored alike
#: on ecg-dev (24.8-25.0 dB filling every end with a 0.05 mV floor, 24.4
#: without the fill; 24.82 as it is).
FILL_CONTEXT_S = 0.04
#: Largest RMS misfit of the best match, as a share of that stretch's standard
#: deviation, for the beat to fill the hidden end (0.25-0.35 scored alike).
FILL_FIT = 0.25
#: Least standard deviation of that stretch (mV): a flat stretch matches
#: anywhere and its end is extrapolated well already.
FILL_MIN_MV = 0.1
#: Fewest hidden samples worth filling.
FILL_MIN_SAMPLES = 3
#: Longest hidden end filled (s): a separator bar hides 20-40 ms; a row whose
#: ink stops earlier (faded, cut) is not made up from beats seen elsewhere.
FILL_MAX_S = 0.1


def _filled_from_beats(
    ts: np.ndarray,
    vals: np.ndarray,
    t0: float,
    t1: float,
    *,
    fill: tuple[bool, bool],
) -> np.ndarray:
    """Fill a panel's hidden ends (before ``t0``, after ``t1``) from its own beats.

    A separator bar hides the first and last few columns of a panel, often in
    a QRS (ecg-dev: 1.2 % of the samples held 11 % of the squared error). The
    heart repeats itself: the :data:`FILL_CONTEXT_S` of trace next to a hidden
    end is found again among the panel's visible samples (least squares, levels
    aside), and when it fits (:data:`FILL_FIT`) what follows (or precedes) the
    match there, shifted to join, fills the hidden end. Ends next to a flat
    stretch (:data:`FILL_MIN_MV`), or with no match, keep their extrapolation.
    Only where a bar stood: where none did, the few columns left out at a
    boundary, filled so, read worse on real-dev (Einthoven consistency of its
    covid page 15.5 -> 14.7 dB, of its Fukuda page 13.0 -> 12.8).

    Parameters
    ----------
    ts : (n,) float ndarray
        The panel's sample times, evenly spaced.
    vals : (n,) float ndarray
        Its values, ends extrapolated.
    t0, t1 : float
        First and last time read from the ink.
    fill : (bool, bool)
        Whether the start, the end, is to be filled.

    Returns
    -------
    (n,) float ndarray
    """
    n = vals.size
    vis = np.flatnonzero((ts >= t0) & (ts <= t1))
    if n < 2 or vis.size == 0:
        return vals
    a, b = int(vis[0]), int(vis[-1])
    dt = float(ts[1] - ts[0])
    c = max(4, int(round(FILL_CONTEXT_S / dt)))
    h_max = int(FILL_MAX_S / dt)
    out = _end_filled(vals, a, b, c, h_max) if fill[1] else np.array(vals, dtype=float)
    if fill[0]:  # the start is the end of the panel read backwards
        out = _end_filled(out[::-1], n - 1 - b, n - 1 - a, c, h_max)[::-1].copy()
    return out


def _end_filled(vals: np.ndarray, a: int, b: int, c: int, h_max: int) -> np.ndarray:
    """``vals`` (a copy) with the samples after ``b`` filled by what follows the
    best match of ``vals[b - c + 1 : b + 1]`` among the visible ``vals[a : b + 1]``
    (see :func:`_filled_from_beats`); at most ``h_max`` hidden samples."""
    out = np.array(vals, dtype=float)
    h = out.size - 1 - b
    if not FILL_MIN_SAMPLES <= h <= h_max or b - a + 1 < 3 * c + h:
        return out
    seg = out[a : b + 1]
    ctx = seg[-c:] - seg[-c:].mean()
    spread = float(np.sqrt(np.mean(ctx * ctx)))
    if not spread >= FILL_MIN_MV:
        return out
    # misfit of window k (seg[k : k + c]) with the context, levels aside:
    # var(window) + var(context) - 2 cov, the sums running, the products by FFT
    n_win = seg.size - c + 1
    cs = np.concatenate(([0.0], np.cumsum(seg)))
    cs2 = np.concatenate(([0.0], np.cumsum(seg * seg)))
    mean = (cs[c:] - cs[:-c]) / c
    var = (cs2[c:] - cs2[:-c]) / c - mean * mean
    size = 1 << int(np.ceil(np.log2(seg.size + c)))
    cross = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(ctx, size)), size)
    misfit = var + spread * spread - 2.0 * cross[:n_win] / c
    # what follows the match is visible, and the match is not the context itself
    last = np.arange(n_win) + c - 1  # index in seg of each window's last sample
    misfit[last + h > seg.size - 1 - c] = np.inf
    misfit[~np.isfinite(misfit)] = np.inf
    k = int(np.argmin(misfit))
    if not misfit[k] <= (FILL_FIT * spread) ** 2:
        return out
    j = a + int(last[k])
    out[b + 1 :] = out[j + 1 : j + 1 + h] - out[j] + out[b]
    return out


#: A sample is bridged when no point read from the ink lies within this many
#: pixels (along x) of it: a pixel column is read every pixel, so farther than
#: one pixel means a gap, an extrapolated end or a column left out.
_BRIDGE_PX = 1.0


def _bridged(ts: np.ndarray, t: np.ndarray, reach_s: float) -> np.ndarray:
    """Which times ``ts`` have no read point ``t`` (sorted) within ``reach_s``."""
    if t.size == 0:
        return np.ones(ts.size, dtype=bool)
    i = np.clip(np.searchsorted(t, ts), 1, t.size - 1) if t.size > 1 else np.zeros(ts.size, int)
    near = np.minimum(np.abs(ts - t[i]), np.abs(ts - t[np.maximum(i - 1, 0)]))
    return near > reach_s


@dataclass(frozen=True)
class _Track:
    """One row's followed trace, page coordinates: point ``k`` at column ``x[k]``,
    row ``y[k]``, read from the ink rows ``[top[k], bottom[k])``; ``base`` its 0 mV row."""

    x: np.ndarray
    y: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    base: float


#: Least distance from its own baseline at which a stroke two rows both follow
#: counts as an excursion of the row (mm): a QRS, not a flat trace's wobble.
SHARED_EXCURSION_MM = 3.0
#: Farthest from its baseline a row's trace may lie just outside such a stretch
#: for the stretch to be an isolated excursion (mm): its own flat trace.
SHARED_FLAT_MM = 1.0
#: Width of the neighbourhood looked at on each side of the stretch (mm).
SHARED_CONTEXT_MM = 0.5
#: Largest step between two shared columns of one stretch (px): a one-column
#: break joins.
SHARED_JOIN_PX = 2
#: Points of a row's track on each side of a shared stretch that make its
#: flanks, carried on as straight lines to the wave's apex.
FLANK_POINTS = 3


def own_strokes(
    tracks: list[_Track], *, px_per_mm_x: float, px_per_mm_y: float
) -> list[np.ndarray]:
    """Keep each row's points off the strokes that belong to its neighbour.

    Where a tall wave of one row reaches the next row's baseline, the two
    strokes merge into one run of ink, and both rows' tracks may follow it. The
    stroke is the row's own when its track stands away from its baseline just
    before and after the shared stretch (the QRS's flanks); it belongs to the
    neighbour when the row's track is flat there and leaves its baseline only
    inside the stretch; and when the row's track reaches the stretch only by
    skipping the columns on both sides of it (an island of its track) while the
    neighbour's runs through. Such an isolated excursion is dropped from that
    row's points (the gap is bridged as any other). Where both rows' waves meet in one
    run (a deep S above a tall R), the run's ends are the other wave's: each
    row's apex there is where its own flanks meet (``tracks``' ``y`` is changed
    in place).

    Parameters
    ----------
    tracks : list of _Track
        The rows' tracks, top to bottom.
    px_per_mm_x, px_per_mm_y : float

    Returns
    -------
    list of (K,) bool ndarray
        Per row, True for the points kept.
    """
    keep = [np.ones(t.x.size, dtype=bool) for t in tracks]
    exc = SHARED_EXCURSION_MM * px_per_mm_y
    flat = SHARED_FLAT_MM * px_per_mm_y
    ctx = max(1, int(round(SHARED_CONTEXT_MM * px_per_mm_x)))
    for r in range(len(tracks) - 1):
        a, b = tracks[r], tracks[r + 1]
        cols, _, _ = _shared_runs(a, b)
        if cols.size == 0:
            continue
        # stretches of consecutive shared columns (a one-column break joins)
        breaks = np.flatnonzero(np.diff(cols) > SHARED_JOIN_PX) + 1
        for seg in np.split(cols, breaks):
            c0, c1 = int(seg[0]), int(seg[-1])
            isolated: list[bool] = []
            excursions: list[bool] = []
            islands: list[bool] = []
            for t in (a, b):
                xi = np.round(t.x).astype(np.int64)
                inside = (xi >= c0) & (xi <= c1)
                before = (xi >= c0 - ctx) & (xi < c0)
                after = (xi > c1) & (xi <= c1 + ctx)
                near = before | after
                off = np.abs(t.y - t.base)
                # how far the runs it read there reach from its baseline
                reach = np.maximum(np.abs(t.top - t.base), np.abs(t.bottom - 1 - t.base))
                far = float(reach[inside].max(initial=0.0)) >= exc
                excursions.append(far)
                isolated.append(bool(near.any()) and far and float(off[near].max()) <= flat)
                islands.append(far and not before.any() and not after.any())
            # The stretch is the neighbour's for a row that jumped onto it and off
            # again (skipping the columns on both sides), or that only leaves
            # its flat baseline there, while the other row's track does not.
            owner = islands if islands[0] != islands[1] else isolated
            if owner[0] != owner[1]:
                k = r if owner[0] else r + 1
                xi = np.round(tracks[k].x).astype(np.int64)
                keep[k] &= ~((xi >= c0) & (xi <= c1))
            elif not isolated[0] and all(excursions):
                # Both rows' waves meet in one run (a deep S above a tall R): its
                # ends are the other wave's. Each row's apex is where its own
                # flanks, carried on, meet (within the run).
                for t in (a, b):
                    _apex_from_flanks(t, c0, c1)
    return keep


def _shared_runs(a: _Track, b: _Track) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns where two rows' tracks read overlapping runs of ink, and the
    indices of those points in ``a`` and in ``b``."""
    common, ia, ib = np.intersect1d(
        np.round(a.x).astype(np.int64), np.round(b.x).astype(np.int64), return_indices=True
    )
    shared = (a.top[ia] < b.bottom[ib]) & (b.top[ib] < a.bottom[ia])
    return common[shared], ia[shared], ib[shared]


def shared_points(tracks: list[_Track]) -> list[np.ndarray]:
    """Which points of each row's track were read from ink the next or the
    previous row's track read too (a stroke the two rows' waves share).

    Parameters
    ----------
    tracks : list of _Track
        The rows' tracks, top to bottom.

    Returns
    -------
    list of (K,) bool ndarray
        Per row, True for its points on shared ink.
    """
    out = [np.zeros(t.x.size, dtype=bool) for t in tracks]
    for r in range(len(tracks) - 1):
        _, ia, ib = _shared_runs(tracks[r], tracks[r + 1])
        out[r][ia] = True
        out[r + 1][ib] = True
    return out


def _apex_from_flanks(t: _Track, c0: int, c1: int) -> None:
    """Re-read ``t``'s points in columns ``[c0, c1]`` from its flanks on either side.

    The flanks (3 points each side; their runs' ends toward the apex) are
    carried on as straight lines; the wave's apex is where they meet, toward the
    wave's side of the baseline; each point is kept within its run of ink.
    Points stay as read when a flank is missing.
    """
    xi = np.round(t.x)
    inside = (xi >= c0) & (xi <= c1)
    left = np.flatnonzero(xi < c0)[-FLANK_POINTS:]
    right = np.flatnonzero(xi > c1)[:FLANK_POINTS]
    if left.size < 2 or right.size < 2 or not inside.any():
        return
    # the wave stands below the baseline (y grows) or above it
    down = float(np.mean(t.y[np.concatenate((left, right))])) > t.base
    # Each flank is its runs' ends toward the apex: where the steep stroke has
    # got to as it leaves the column. The runs' centres trail it (a stroke
    # still bending towards its apex), and their lines met short of it.
    edge = t.bottom - 1.0 if down else t.top.astype(np.float64)
    sl, il = line_fit(t.x[left], edge[left])
    sr, ir = line_fit(t.x[right], edge[right])
    x = t.x[inside]
    lines = np.stack((sl * x + il, sr * x + ir))
    y = lines.min(axis=0) if down else lines.max(axis=0)
    t.y[inside] = np.clip(y, t.top[inside], t.bottom[inside] - 1)


#: Largest relative squared difference (see :func:`_mismatch`) between a rhythm
#: strip and a short panel over the panel's time for the strip to be named after
#: the panel's lead: the same lead at the same time measures 0-0.25 on real
#: prints (the ink is printed twice), other leads 0.03-2.6.
RHYTHM_MISMATCH = 0.35
#: How many times closer the best panel must be than the second best: similar
#: leads (V1 and V2, V4 to V6) lie 2.4-5x farther than the lead itself on real
#: prints and renders.
RHYTHM_MARGIN = 2.0
#: ... both counted from this mismatch up: the same lead read twice measures
#: 0.000-0.05 on renders, so between two panels closer than that the margin
#: measures the reading's noise. Where lead III is flat (a frontal axis near
#: 30 degrees) leads I and II are one signal: a 100 dpi II strip measured 0.024
#: against I and 0.049 against II, and was named I.
RHYTHM_FLOOR = 0.01
#: Shortest panel a rhythm strip is compared with (s): a page's edge leaves a
#: sliver of a panel, too short to tell leads apart (a cut page's V2 over 0.6 s
#: named the V5 strip whose own panel the edge cut off).
RHYTHM_PANEL_MIN_S = 1.0
#: Fewest samples two signals are compared over (:func:`_mismatch`): fewer hold
#: no shape.
MISMATCH_MIN_SAMPLES = 8


def _mismatch(a: np.ndarray, b: np.ndarray) -> float:
    """Squared difference of two median-centred signals over the product of their norms.

    0 for equal signals; about 2 for unrelated ones of equal power; NaN when
    either is flat or shorter than 8 samples.
    """
    n = min(a.size, b.size)
    if n < MISMATCH_MIN_SAMPLES:
        return float("nan")
    a = a[:n] - np.median(a[:n])
    b = b[:n] - np.median(b[:n])
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float(((a - b) ** 2).sum() / den) if den > 0 else float("nan")


def name_rhythm_strips(
    readings: list[tuple[Panel, LeadSignal]], n_rhythm: int
) -> tuple[list[tuple[Panel, LeadSignal]], tuple[str, ...]]:
    """Name each rhythm strip after the short panel it repeats.

    A rhythm strip prints a lead over the whole record; the short panels print
    each lead over a part of it, at the same times. The strip over a panel's
    time is that panel's signal again, in shape and in size: the closest panel
    (:func:`_mismatch` under :data:`RHYTHM_MISMATCH`, and :data:`RHYTHM_MARGIN`
    times closer than the next, counted from :data:`RHYTHM_FLOOR`; panels of
    :data:`RHYTHM_PANEL_MIN_S` or more)
    names the strip. Correlation would not do:
    pacing spikes and beats fall at the same times in every lead. A lead names
    one strip at most (the closest); the strips left take the layout's strip
    leads no strip matched, in order.

    Parameters
    ----------
    readings : list of (Panel, LeadSignal)
        Every panel read, in layout order; the last ``n_rhythm`` are the strips.
    n_rhythm : int

    Returns
    -------
    readings : list of (Panel, LeadSignal)
        With the strips renamed where a panel matched (unchanged elsewhere).
    names : tuple of str
        The strips' leads, top to bottom.
    """
    if n_rhythm <= 0:
        return readings, ()
    short = readings[: len(readings) - n_rhythm]
    strips = readings[len(readings) - n_rhythm :]
    matched: list[tuple[str, float] | None] = []
    for _, sig in strips:
        scores: dict[str, float] = {}
        for sp, ss in short:
            if sp.duration_s < RHYTHM_PANEL_MIN_S:
                continue
            i0 = int(round((sp.t0_s - sig.start_s) * sig.fs))
            if i0 < 0 or i0 >= sig.values.size:
                continue
            d = _mismatch(np.asarray(sig.values[i0 : i0 + ss.values.size]), np.asarray(ss.values))
            if np.isfinite(d):
                scores[sp.lead] = min(d, scores.get(sp.lead, np.inf))
        ranked = sorted(scores.items(), key=lambda kv: kv[1])
        best = None
        if ranked and ranked[0][1] <= RHYTHM_MISMATCH:
            second = ranked[1][1] if len(ranked) > 1 else np.inf
            if second + RHYTHM_FLOOR >= RHYTHM_MARGIN * (ranked[0][1] + RHYTHM_FLOOR):
                best = ranked[0]
        matched.append(best)
    # A cart prints a lead once as a strip: of strips matching one lead the
    # closest keeps it; the others, and the strips no panel matched, take the
    # layout's own strip leads that no match took, in order (V1, II on a GE
    # page whose II strip matched: the other is V1, not II again).
    for k, m in enumerate(matched):
        if m is not None and any(
            o is not None and o[0] == m[0] and (o[1], j) < (m[1], k) for j, o in enumerate(matched)
        ):
            matched[k] = None
    taken = {m[0] for m in matched if m is not None}
    spare = iter(p.lead for p, _ in strips if p.lead not in taken)
    out = list(short)
    names = []
    for (panel, sig), m in zip(strips, matched, strict=True):
        lead = m[0] if m is not None else next(spare, panel.lead)
        names.append(lead)
        out.append(
            (
                dataclasses.replace(panel, lead=lead),
                dataclasses.replace(sig, name=lead),
            )
        )
    return out, tuple(names)


#: Largest shift (s) a rhythm strip is moved by to line up with the short panel
#: of its lead: the rows of a real print may stand a fraction of a millimetre
#: apart in time (real-dev's Fukuda page: its II strip 6 ms behind the II panel
#: and the I and III panels beside it, 0.3 mm at 50 mm/s); renders are exact.
RHYTHM_ALIGN_S = 0.02
#: ... and only when the correlation at the best shift exceeds that at none by
#: this much: a clear peak, not noise.
RHYTHM_ALIGN_GAIN = 0.02


def align_rhythm_strips(
    readings: list[tuple[Panel, LeadSignal]], n_rhythm: int
) -> list[tuple[Panel, LeadSignal]]:
    """Line each rhythm strip up in time with the short panel of its lead.

    The strip over the panel's time is the panel's signal again; the shift of up
    to :data:`RHYTHM_ALIGN_S` that best correlates them (by
    :data:`RHYTHM_ALIGN_GAIN` over none) moves the strip's samples, its ends
    held. Strips whose lead no short panel of :data:`RHYTHM_PANEL_MIN_S` or
    more prints are left as they are.

    Parameters
    ----------
    readings : list of (Panel, LeadSignal)
        Every panel read, in layout order; the last ``n_rhythm`` are the strips,
        named (:func:`name_rhythm_strips`).
    n_rhythm : int

    Returns
    -------
    list of (Panel, LeadSignal)
    """
    if n_rhythm <= 0:
        return readings
    short = readings[: len(readings) - n_rhythm]
    out = list(short)
    for panel, sig in readings[len(readings) - n_rhythm :]:
        mates = [
            (sp, ss)
            for sp, ss in short
            if sp.lead == sig.name and sp.duration_s >= RHYTHM_PANEL_MIN_S
        ]
        if mates:
            sp, ss = max(mates, key=lambda m: m[1].values.size)
            sig = _aligned(sig, ss, sp.t0_s)
        out.append((panel, sig))
    return out


def _aligned(strip: LeadSignal, panel: LeadSignal, t0: float) -> LeadSignal:
    """``strip`` moved by the whole-sample shift that best matches ``panel`` (from ``t0``)."""
    k_max = int(round(RHYTHM_ALIGN_S * strip.fs))
    i0 = int(round((t0 - strip.start_s) * strip.fs))
    a = np.asarray(panel.values, dtype=np.float64)
    b = np.asarray(strip.values, dtype=np.float64)
    n = min(a.size, b.size - i0 - k_max) - k_max
    if k_max < 1 or i0 < 0 or n < MISMATCH_MIN_SAMPLES:
        return strip
    x = a[k_max : k_max + n]
    if not np.all(np.isfinite(x)) or not np.all(np.isfinite(b)):
        return strip
    corr = {}
    for k in range(-k_max, k_max + 1):
        y = b[i0 + k_max + k : i0 + k_max + k + n]
        c = np.corrcoef(x, y)[0, 1]
        corr[k] = float(c) if np.isfinite(c) else -1.0
    k = max(corr, key=corr.get)
    if k == 0 or corr[k] - corr[0] < RHYTHM_ALIGN_GAIN:
        return strip
    idx = np.arange(b.size, dtype=np.float64) + k
    moved = np.interp(idx, np.arange(b.size, dtype=np.float64), b)
    return dataclasses.replace(strip, values=moved)


def _assemble(readings: list[tuple[Panel, LeadSignal]]) -> dict[str, LeadSignal]:
    """Each lead's longest printed segment (the first of equal ones)."""
    best: dict[str, LeadSignal] = {}
    for _, sig in readings:
        if sig.name not in best or best[sig.name].values.size < sig.values.size:
            best[sig.name] = sig
    return best


#: Least length (mm) of a stroke beyond a separator bar for it to give the start
#: of a lead the bar hid: a QRS's flank, not a speck or the bar's ragged end.
BAR_STROKE_MM = 0.5


def through_bars(
    track: _Track,
    kept: np.ndarray,
    band: np.ndarray,
    bars: list[tuple[float, tuple[int, int, int, int]]],
    *,
    x_origin: int,
    y_origin: int,
    px_per_mm_y: float,
    line_width: float,
) -> tuple[_Track, np.ndarray]:
    """A lead's first point where its opening stroke ran behind a separator bar.

    A bar stands on each boundary between two panels, and its removal takes the
    part of the new lead's first stroke that ran inside it (an R wave falling
    from its apex right at the boundary). When the new lead's first point kept
    lies along the bar's height and is steep (its run at least twice the pen
    width tall), and ink runs on unbroken for :data:`BAR_STROKE_MM` or more beyond
    the bar's end, in the new lead's columns (right of the boundary: left of it
    the ink is the old lead's), the farthest of it is the lead's first point;
    the stroke behind the bar is then bridged. Above the bar is looked at first
    (when that point lies below the bar's top), then below it (when it lies
    above the bar's bottom).

    Parameters
    ----------
    track : _Track
        The row's followed trace (page coordinates).
    kept : (K,) bool ndarray
        The track's points kept (:func:`own_strokes`).
    band : (H, W) bool ndarray
        The row's band of ink as tracked, bars removed; page column ``x_origin``
        is its column 0, page row ``y_origin`` its row 0.
    bars : list of (x0, (y0, y1, b0, b1))
        Per boundary, the panel's first column (page) and the bar's rows and
        columns erased in ``band`` (half-open).
    x_origin, y_origin : int
    px_per_mm_y : float
    line_width : float
        The pen's width (px).

    Returns
    -------
    track : _Track
        With a point added per boundary where one was found (the same object when none).
    kept : (K',) bool ndarray
    """
    guard = 0.5 * line_width + 0.5
    min_run = max(2, int(round(BAR_STROKE_MM * px_per_mm_y)))
    added: list[tuple[float, float]] = []
    for x0, (y0, y1, _, b1) in bars:
        after = np.flatnonzero(kept & (track.x >= x0 + guard))
        if after.size == 0:
            continue
        j = int(after[0])
        if track.bottom[j] - track.top[j] < 2 * line_width + 2:
            continue  # a flat start: nothing hidden
        yb = track.y[j] - y_origin
        cols = range(max(0, int(np.ceil(x0 - x_origin - 0.5))), min(band.shape[1], b1 + 1))
        best: tuple[int, int] | None = None
        if y0 + min_run < yb <= y1 + min_run and y0 >= 1:  # along the bar: ink above it?
            for c in cols:
                run = _run_length(band[:y0, c][::-1])
                if run >= min_run and (best is None or y0 - run < best[1]):
                    best = (c, y0 - run)
        # along the bar or above it, and no stroke above in the new lead's
        # columns: ink below it?
        if best is None and y0 - min_run <= yb < y1 - min_run and y1 < band.shape[0]:
            for c in cols:
                run = _run_length(band[y1:, c])
                if run >= min_run and (best is None or y1 + run - 1 > best[1]):
                    best = (c, y1 + run - 1)
        if best is None:
            continue
        x_new = max(best[0] + x_origin, x0 + guard + 1e-3)
        if x_new < track.x[j]:
            added.append((x_new, float(best[1] + y_origin)))
    if not added:
        return track, kept
    ax = np.array([a for a, _ in added])
    ay = np.array([b for _, b in added])
    x = np.concatenate((track.x, ax))
    order = np.argsort(x, kind="stable")
    new = _Track(
        x[order],
        np.concatenate((track.y, ay))[order],
        np.concatenate((track.top, ay))[order],
        np.concatenate((track.bottom, ay + 1))[order],
        track.base,
    )
    return new, np.concatenate((kept, np.ones(ax.size, bool)))[order]


def _run_length(column: np.ndarray) -> int:
    """How many leading entries of the bool ``column`` are True."""
    if column.size == 0 or not column[0]:
        return 0
    return int(column.size if column.all() else np.argmin(column))
