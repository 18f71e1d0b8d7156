"""Mending by Einthoven's law: limb-lead samples the ink could not settle, re-read
from the other limb leads printed at the same times.

The six limb leads are two signals seen six ways (:data:`~ecgprep.signals.LIMB_BASIS`:
III = II - I, aVR = -(I + II) / 2, ...), so wherever four or more of them are
printed at the same time (a 6x2 or 12x1 page's first column, a 3x4 page's
aVR / aVL / aVF column beside a II rhythm strip), one of them that the ink
left in doubt can be told from the others. A sample is in doubt where its row's
track did not read it from ink of its own (:func:`doubtful_samples`): bridged
over a gap or past a panel's end, following a stroke it shares with the
neighbouring row (a deep S wave meeting the tall R below it), or reaching where
a lead label or text stands (an S wave through its label). There, and only
there, a reading the others outvote is replaced by their value
(:func:`mend_by_law`); a sample read from its own ink is never changed, and
nothing is mended where the readings the law rests on disagree among
themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._validate import check_number
from ..signals import LIMB_BASIS, LeadSignal
from .convert import _bridged

__all__ = ["LawMend", "doubtful_samples", "mend_by_law"]

#: Largest difference (mV) between a limb lead's reading and the value the other
#: leads give it for the readings to agree: a millimetre at 10 mm/mV, twice what
#: the thickest pen of the renders puts between two readings of one stroke.
LAW_TOLERANCE_MV = 0.1
#: Fewest readings (limb-lead samples at one time) the law's value must rest on
#: after the doubtful ones are set aside: three, so that they check one another
#: (two always fit the law's two signals exactly).
LAW_MIN_READINGS = 3
#: A doubtful reading is set aside when it is at least this share as far from
#: the law's fit as the farthest reading: where one reading is wrong, the fit
#: spreads its error over the readings it shares a relation with (I, II and III
#: equally), and the doubtful one is the likely culprit among them.
LAW_CULPRIT_SHARE = 0.5
#: Samples each side of a point read from ink not the row's alone that are in
#: doubt too (s): the stroke's own width around its columns.
DOUBT_PAD_S = 0.004
#: Fewest samples a reading must share with the law's fit, read from its own
#: ink, for its baseline offset to be measured (else it is taken as 0).
OFFSET_MIN_SAMPLES = 50


@dataclass(frozen=True)
class LawMend:
    """Result of :func:`mend_by_law`.

    Attributes
    ----------
    signals : tuple of LeadSignal
        The readings, in the order given, with their mended samples replaced.
    mended : tuple of (n_k,) bool ndarray
        Which samples of each reading were replaced.
    """

    signals: tuple
    mended: tuple

    @property
    def total(self) -> int:
        """Samples replaced over all readings."""
        return int(sum(int(np.count_nonzero(m)) for m in self.mended))


def doubtful_samples(
    ts: np.ndarray,
    t_read: np.ndarray,
    t_doubt: np.ndarray,
    *,
    reach_s: float,
    bridged: np.ndarray | None = None,
) -> np.ndarray:
    """Which samples of a panel its track did not read from ink of its own.

    Parameters
    ----------
    ts : (n,) ndarray of float
        The panel's sample times (s).
    t_read : (k,) ndarray of float
        Times (s, sorted) of the points read from the row's ink.
    t_doubt : (j,) ndarray of float
        Times (s) of the points read from ink that may not be the row's alone:
        a stroke it shares with a neighbouring row, or one reaching where lead
        labels or text stand.
    reach_s : float
        A sample farther than this from every read point is bridged, hence in
        doubt.
    bridged : (n,) bool ndarray, optional
        Which samples are bridged, when the caller has them already (the same
        test on ``t_read``).

    Returns
    -------
    (n,) bool ndarray
        True for samples in doubt: bridged, or within :data:`DOUBT_PAD_S` plus
        ``reach_s`` of a point of ``t_doubt``.
    """
    ts = np.asarray(ts, dtype=np.float64)
    if bridged is None:
        out = _bridged(ts, np.asarray(t_read, dtype=np.float64), reach_s)
    else:
        out = np.array(bridged, dtype=bool)
    near = np.sort(np.asarray(t_doubt, dtype=np.float64))
    if near.size:
        out |= ~_bridged(ts, near, reach_s + DOUBT_PAD_S)
    return out


def mend_by_law(
    signals: Sequence[LeadSignal],
    doubtful: Sequence[np.ndarray],
    *,
    tolerance_mv: float = LAW_TOLERANCE_MV,
    min_readings: int = LAW_MIN_READINGS,
) -> LawMend:
    """Replace limb-lead samples in doubt that the other limb leads outvote.

    Parameters
    ----------
    signals : sequence of LeadSignal
        Every printed segment read (a lead may come twice: a short panel and a
        rhythm strip); those not named after a limb lead, or at another sampling
        rate than the first limb lead's, are passed through.
    doubtful : sequence of (n_k,) bool ndarray
        Per segment, which of its samples were not read from ink of its own
        (:func:`doubtful_samples`).
    tolerance_mv : float
        Readings within this of the law's fit agree (mV).
    min_readings : int
        Fewest readings, agreeing, that a mended sample's value may rest on.

    Returns
    -------
    LawMend

    Notes
    -----
    At each sample time, the readings printed then give the two limb signals
    (I and II) by least squares, each reading less its own baseline offset
    (the median of its differences from the fit where it was read from ink).
    While a reading lies farther than ``tolerance_mv`` from the fit, the farthest
    doubtful reading (one at least :data:`LAW_CULPRIT_SHARE` as far as the
    farthest of all) is set aside and the fit made again without it. When the
    readings left are ``min_readings`` or more and agree, and those of them read
    from ink of their own give both signals by themselves (two leads at least,
    of different directions), the readings set aside
    take the fit's value; when a reading read from its own ink is the one
    outvoted, or too few are left, nothing at that time is changed: a value
    resting on other readings in doubt (the extrapolated ends of a column's
    panels) is no better than the reading.

    Examples
    --------
    >>> t = np.arange(1000) / 500.0
    >>> i, ii = np.sin(6 * t), np.cos(5 * t)
    >>> names = ("I", "II", "III", "aVR")
    >>> true = (i, ii, ii - i, -(i + ii) / 2)
    >>> read = [LeadSignal(n, v, 500.0, 0.0) for n, v in zip(names, true)]
    >>> bad = read[3].values.copy(); bad[100:120] += 1.0
    >>> read[3] = LeadSignal("aVR", bad, 500.0, 0.0)
    >>> doubt = [np.zeros(1000, bool)] * 3 + [np.arange(1000) // 10 == 11]
    >>> m = mend_by_law(read, doubt)
    >>> [int(k.sum()) for k in m.mended]
    [0, 0, 0, 10]
    >>> round(float(np.abs(m.signals[3].values - true[3]).max()), 6)  # 100-109: from ink
    1.0
    """
    tol = check_number(tolerance_mv, "tolerance_mv", lo=0.0)
    if len(doubtful) != len(signals):
        raise ValueError(
            f"doubtful must hold one array per signal ({len(signals)}), got {len(doubtful)}"
        )
    out = list(signals)
    mended = [np.zeros(np.asarray(sig.values).size, dtype=bool) for sig in out]
    limb = [k for k, s in enumerate(signals) if s.name in LIMB_BASIS]
    if len(limb) < 4:
        return LawMend(tuple(out), tuple(mended))
    fs = float(signals[limb[0]].fs)
    limb = [k for k in limb if float(signals[k].fs) == fs]
    offs = [int(round(float(signals[k].start_s) * fs)) for k in limb]
    sizes = [np.asarray(signals[k].values).size for k in limb]
    for k, s in zip(limb, sizes, strict=True):
        if np.asarray(doubtful[k]).shape != (s,):
            raise ValueError(
                f"doubtful[{k}] must hold one flag per sample of {signals[k].name} ({s}), "
                f"got shape {np.asarray(doubtful[k]).shape}"
            )
    o0 = min(offs)
    n = max(o + s for o, s in zip(offs, sizes, strict=True)) - o0
    m = len(limb)
    y = np.zeros((m, n))
    present = np.zeros((m, n), dtype=bool)
    doubt = np.zeros((m, n), dtype=bool)
    for j, (k, o, s) in enumerate(zip(limb, offs, sizes, strict=True)):
        v = np.asarray(signals[k].values, dtype=np.float64)
        y[j, o - o0 : o - o0 + s] = np.where(np.isfinite(v), v, 0.0)
        present[j, o - o0 : o - o0 + s] = np.isfinite(v)
        doubt[j, o - o0 : o - o0 + s] = np.asarray(doubtful[k], dtype=bool)
    basis = np.array([LIMB_BASIS[signals[k].name] for k in limb])  # (m, 2)

    # Each reading's baseline offset, from the samples read from ink of its own.
    own = present & ~doubt
    offset = np.zeros(m)
    for _ in range(2):
        fit, ok = _fit(y - offset[:, None], own, basis, min_readings)
        res = y - offset[:, None] - basis @ fit
        for j in range(m):
            sel = own[j] & ok
            if sel.sum() >= OFFSET_MIN_SAMPLES:
                offset[j] += float(np.median(res[j, sel]))
    yc = y - offset[:, None]

    # times where the readings from ink of their own alone give both signals
    spans = _fit(yc, own, basis, 2)[1]
    active = present.copy()
    aside = np.zeros_like(present)
    open_ = present.sum(axis=0) >= min_readings  # times still being settled
    settled = np.zeros(n, dtype=bool)
    fit = np.zeros((2, n))
    for _ in range(m):
        if not open_.any():
            break
        fit, ok = _fit(yc, active, basis, min_readings)
        ok &= spans  # the law's value rests on readings from ink of their own
        far = np.where(active, np.abs(yc - basis @ fit), 0.0)
        worst = far.max(axis=0)
        agree = open_ & ok & (worst <= tol)
        settled |= agree
        open_ &= ~agree & ok
        far_doubt = np.where(doubt, far, -1.0)
        culprit = far_doubt.argmax(axis=0)
        cfar = far_doubt[culprit, np.arange(n)]
        blame = open_ & (cfar >= LAW_CULPRIT_SHARE * worst) & (cfar > tol)
        open_ &= blame
        cols = np.flatnonzero(blame)
        active[culprit[cols], cols] = False
        aside[culprit[cols], cols] = True
    aside &= settled[None, :]
    if not aside.any():
        return LawMend(tuple(out), tuple(mended))
    value = basis @ fit + offset[:, None]
    for j, (k, o, s) in enumerate(zip(limb, offs, sizes, strict=True)):
        sel = aside[j, o - o0 : o - o0 + s]
        if not sel.any():
            continue
        v = np.array(signals[k].values, dtype=np.float64)
        v[sel] = value[j, o - o0 : o - o0 + s][sel]
        s_ = signals[k]
        out[k] = LeadSignal(s_.name, v, s_.fs, s_.start_s, s_.bridged_s)
        mended[k] = sel
    return LawMend(tuple(out), tuple(mended))


def _fit(
    y: np.ndarray, use: np.ndarray, basis: np.ndarray, min_readings: int
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares limb signals (I, II) at each time from the readings ``use``
    marks: ``(2, n)``, and which times had ``min_readings`` or more spanning both."""
    w = use.astype(np.float64)
    b0, b1 = basis[:, 0:1], basis[:, 1:2]
    a00 = (w * b0 * b0).sum(axis=0)
    a01 = (w * b0 * b1).sum(axis=0)
    a11 = (w * b1 * b1).sum(axis=0)
    r0 = (w * b0 * y).sum(axis=0)
    r1 = (w * b1 * y).sum(axis=0)
    det = a00 * a11 - a01 * a01
    ok = (det > 1e-6) & (use.sum(axis=0) >= min_readings)
    d = np.where(ok, det, 1.0)
    fit = np.stack(((a11 * r0 - a01 * r1) / d, (a00 * r1 - a01 * r0) / d))
    fit[:, ~ok] = 0.0
    return fit, ok
