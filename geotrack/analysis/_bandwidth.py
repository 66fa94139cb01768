"""The kernel bandwidth of a density result: given, cross-validated, Silverman's, or the bin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from geotrack import density as dens
from geotrack.analysis._options import (
    MIN_CV_SITES,
    DensityOptions,
)
from geotrack.density.hotspot import SILVERMAN_RANGE
from geotrack.density.kernel import _check_bandwidth

if TYPE_CHECKING:
    pass


def _choose_bandwidth(
    c: np.ndarray, window: tuple[float, float], opts: DensityOptions
) -> tuple[float, str, str, str]:
    """The bandwidth, its rule, the rule the hotspot test repeats, and how it was chosen (words).

    *c* holds the point-located crossings' chainages: only they have a
    position to cross-validate on.
    """
    length = window[1] - window[0]
    if opts.bandwidth_km is not None:
        h = _check_bandwidth(opts.bandwidth_km, window)
        return h, "given", "given", f"given: {h:g} km"
    n = c.size
    fallback = min(opts.bin_km, length)
    rule = opts.bandwidth_rule
    basis = ""
    if rule == "auto":
        rule = "cv" if n >= MIN_CV_SITES else "silverman"
        basis = (
            f"auto (likelihood cross-validation with {MIN_CV_SITES} or more point-located "
            f"crossings, Silverman's rule with 2 to {MIN_CV_SITES - 1}, the bin width with "
            f"fewer than 2): {n} point-located, so "
        )
    if rule == "cv" and n >= 2:
        choice = dens.cv_bandwidth(c, window=window)
        note = (
            "; the best bandwidth is at the end of the searched range "
            f"{choice.searched_km[0]:.4g}–{choice.searched_km[1]:.4g} km"
            if choice.at_limit
            else ""
        )
        return (
            choice.bandwidth_km,
            "likelihood cross-validation",
            "cv",
            f"{basis}{choice.rule}, on the {n} point-located crossings{note}",
        )
    if rule == "silverman" and np.unique(c).size >= 2:
        h = dens.silverman_bandwidth(c)
        lo, hi = length * SILVERMAN_RANGE[0], length * SILVERMAN_RANGE[1]
        note = ""
        if not lo <= h <= hi:
            note = f"; it gave {h:.3g} km, held within window/2000–window ({lo:.3g}–{hi:.3g} km)"
            h = min(max(h, lo), hi)
        return (
            h,
            "silverman",
            "silverman",
            f"{basis}Silverman's rule 0.9 min(sd, IQR/1.34) n^-1/5 (standard quartiles) on "
            f"the {n} point-located crossings{note}",
        )
    return (
        fallback,
        "bin width",
        "given",
        f"{basis}the bin width {fallback:g} km: too few distinct point-located crossings "
        f"({np.unique(c).size}) for the {rule} rule",
    )
