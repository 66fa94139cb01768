"""What ``geotrack density`` computes: the options, their defaults and limits, checked."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geotrack.errors import Problem, ValidationError
from geotrack.schema import CREDIBILITY, PRECISIONS, RELIABILITY, VERIFICATIONS

if TYPE_CHECKING:
    pass


#: Bandwidth rules: ``auto`` is likelihood cross-validation from :data:`MIN_CV_SITES`
#: point-located crossings, Silverman's rule below, the bin width below 2.
BANDWIDTH_RULES = ("auto", "cv", "silverman")
#: Fewest point-located crossings for likelihood cross-validation under ``auto``.
MIN_CV_SITES = 10
#: Seed of the Monte Carlo tests unless another is given: the same data, the same p-values.
DEFAULT_SEED = 20251209
#: Shortest bin: at most about 30,000 bins over the whole 306 km line.
MIN_BIN_KM = 0.01
#: Most Monte Carlo simulations (99,999 take about a minute on the bundled stretch).
MAX_SIMULATIONS = 99_999
#: Default half-width of the density raster's corridor along the river, km: cells whose
#: centres lie farther from the river line are nodata (crossings are counted up to
#: ``max_offset_km``, 2 km by default, from the line: the corridor holds them all).
DEFAULT_CORRIDOR_KM = 3.0
#: Most a corridor may be, km (the stretch's valley is a few km wide; tens of km is a region).
MAX_CORRIDOR_KM = 50.0


@dataclass(frozen=True)
class DensityOptions:
    """What ``geotrack density`` computes, with the CLI's defaults.

    Parameters
    ----------
    window : str
        Window spec: a named window, ``FROM_KM:TO_KM``, ``all``,
        ``town:NAME..NAME`` or ``lonlat:LON,LAT..LON,LAT``.
    bin_km : float
        Bin length, km.
    bandwidth_km : float, optional
        Kernel bandwidth (standard deviation), km; else chosen by ``bandwidth_rule``.
    bandwidth_rule : {"auto", "cv", "silverman"}
        ``auto``: likelihood cross-validation on the point-located crossings
        when there are at least :data:`MIN_CV_SITES`, else Silverman's rule
        (at least 2 distinct), else the bin width.  ``cv``, ``silverman``:
        that rule (falling back to the bin width below 2 point-located).
    step_km : float, optional
        Grid step of the kernel density, km (default ``min(0.1, bandwidth / 4)``).
    max_offset_km : float
        Crossings farther than this from the stretch line are excluded and listed.
    min_precision : str, optional
        Keep crossings located at least this precisely (``exact`` < ``near_place``
        < ``reach`` < ``county``).
    verification : tuple of str
        Keep crossings with at least one report whose verification status is one of these.
    min_reliability, min_credibility : str, int, optional
        Keep crossings with at least one report graded at least this well on
        the Admiralty scale (A best, 1 best); with ``verification``, one report
        must satisfy all report filters.
    include_spread : bool
        Let the hotspot and clustering tests use spread crossings too (by
        simulation with the same spreads); by default they use point-located
        crossings only.
    simulations : int
        Monte Carlo simulations for the hotspot and clustering tests.
    seed : int
        Random seed, :data:`DEFAULT_SEED` unless given.
    alpha : float
        Significance level.
    gaps_top : int
        How many of the longest gaps to list.
    raster_cell_m, raster_bandwidth_m : float, optional
        Cell size and kernel bandwidth of the 2-D density raster, metres
        (default bandwidth: half the corridor, see :meth:`DensityResult.grid`).
    raster_corridor_km : float
        Half-width of the raster's corridor along the river line, km: cells
        whose centres lie farther from the line are nodata.

    Examples
    --------
    >>> DensityOptions(window="0:98.5", bin_km=2).bin_km
    2
    """

    window: str = "reported"
    bin_km: float = 5.0
    bandwidth_km: float | None = None
    bandwidth_rule: str = "auto"
    step_km: float | None = None
    max_offset_km: float = 2.0
    min_precision: str | None = None
    verification: tuple[str, ...] = ()
    min_reliability: str | None = None
    min_credibility: int | None = None
    include_spread: bool = False
    simulations: int = 999
    seed: int = DEFAULT_SEED
    alpha: float = 0.05
    gaps_top: int = 5
    raster_cell_m: float | None = None
    raster_bandwidth_m: float | None = None
    raster_corridor_km: float = DEFAULT_CORRIDOR_KM

    def check(self) -> None:
        """Raise :class:`ValidationError` listing every invalid option.

        Examples
        --------
        >>> DensityOptions(bandwidth_rule="scott").check()
        Traceback (most recent call last):
        ...
        geotrack.errors.ValidationError: bandwidth_rule='scott': use one of auto, cv, silverman
        """
        p: list[Problem] = []
        if self.bandwidth_rule not in BANDWIDTH_RULES:
            p.append(
                Problem(
                    "bandwidth_rule",
                    self.bandwidth_rule,
                    f"use one of {', '.join(BANDWIDTH_RULES)}",
                )
            )
        if not _positive(self.bin_km) or self.bin_km < MIN_BIN_KM:
            p.append(
                Problem(
                    "bin_km",
                    self.bin_km,
                    f"give a bin length of at least {MIN_BIN_KM:g} km (10 m), e.g. 5",
                )
            )
        if not _positive(self.max_offset_km):
            p.append(Problem("max_offset_km", self.max_offset_km, "give a distance > 0 km, e.g. 2"))
        if self.min_precision is not None and self.min_precision not in PRECISIONS:
            p.append(
                Problem("min_precision", self.min_precision, f"use one of {', '.join(PRECISIONS)}")
            )
        for v in self.verification:
            if v not in VERIFICATIONS:
                p.append(Problem("verification", v, f"use one of {', '.join(VERIFICATIONS)}"))
        if self.min_reliability is not None and self.min_reliability not in RELIABILITY:
            p.append(
                Problem("min_reliability", self.min_reliability, "use a grade from A (best) to F")
            )
        if self.min_credibility is not None and self.min_credibility not in CREDIBILITY:
            p.append(
                Problem("min_credibility", self.min_credibility, "use a grade from 1 (best) to 6")
            )
        if not isinstance(self.simulations, int) or not 1 <= self.simulations <= MAX_SIMULATIONS:
            p.append(
                Problem(
                    "simulations", self.simulations, f"give an integer in [1, {MAX_SIMULATIONS}]"
                )
            )
        if not isinstance(self.seed, int) or self.seed < 0:
            p.append(Problem("seed", self.seed, "give a non-negative integer"))
        if not (isinstance(self.alpha, int | float) and 0 < self.alpha < 1):
            p.append(Problem("alpha", self.alpha, "give a level in (0, 1), e.g. 0.05"))
        if not isinstance(self.gaps_top, int) or self.gaps_top < 1:
            p.append(Problem("gaps_top", self.gaps_top, "give a positive integer"))
        for name in ("raster_cell_m", "raster_bandwidth_m"):
            v = getattr(self, name)
            if v is not None and not _positive(v):
                p.append(Problem(name, v, "give a positive number of metres"))
        c = self.raster_corridor_km
        if not _positive(c) or c > MAX_CORRIDOR_KM:
            p.append(
                Problem(
                    "raster_corridor_km",
                    c,
                    f"give a distance from the river line in (0, {MAX_CORRIDOR_KM:g}] km "
                    f"(--raster-corridor-km), e.g. {DEFAULT_CORRIDOR_KM:g}",
                )
            )
        if p:
            raise ValidationError(p)


def _positive(v: object) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and v > 0
