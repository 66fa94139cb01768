"""Statistics of points along one line: bins, kernel density, hotspots, clustering, gaps.

Every function here takes chainages in km along a line and a *window*
``(from_km, to_km)`` of that line, and returns a frozen dataclass with an
``as_dict()`` for JSON.  Densities are in "per km of river" (1-D) or "per km²"
(2-D grid).  No I/O, no printing; invalid arguments raise
:class:`~geotrack.errors.WindowError` or :class:`~geotrack.errors.ValidationError`
naming the valid range.

Methods, stated in each result:

* **bins**: fixed-length bins from the window's start; the last bin ends at
  the window's end and may be shorter; it is divided by its true length.
  Bins are half-open ``[from, to)``, the last one closed.
* **kernel density**: Gaussian kernel, bandwidth in km; linear binning onto
  a grid of stated step and FFT convolution; edge correction by reflection
  at both ends of the window (repeated, so that it integrates to the
  number, or total weight, of points in the window).
* **bandwidth rules**: Silverman's rule of thumb
  ``0.9 * min(sd, IQR / 1.34) * n ** (-1/5)``, or likelihood
  cross-validation (leave-one-out log-likelihood maximised over bandwidths).
* **hotspots**: stretches where the density exceeds the uniform rate
  ``n / L``; significance from Monte Carlo simulations of the same number
  of points placed uniformly in the window (complete spatial randomness),
  comparing each stretch's peak with the simulated maxima of the density
  (a global envelope, so the test holds over the whole window).
* **clustering**: mean nearest-neighbour distance and 1-D Ripley's L
  function, each against Monte Carlo simulations under complete spatial
  randomness (seeded, number stated), with a p-value.
* **gaps**: the longest stretches of the window with no point.

Modules, one statistic family each: :mod:`~geotrack.density.window` (windows
and point arrays), :mod:`~geotrack.density.bins`,
:mod:`~geotrack.density.kernel` (binning and kernel smoothing),
:mod:`~geotrack.density.bandwidth`, :mod:`~geotrack.density.montecarlo`,
:mod:`~geotrack.density.hotspot`, :mod:`~geotrack.density.cluster` (clustering
and gaps) and :mod:`~geotrack.density.raster` (the 2-D grid).
"""

from geotrack.density.bandwidth import BandwidthChoice, cv_bandwidth, silverman_bandwidth
from geotrack.density.bins import Bins, bin_counts, bin_edges
from geotrack.density.cluster import Clustering, Gaps, clustering, gaps
from geotrack.density.hotspot import Hotspot, Hotspots, hotspots
from geotrack.density.kernel import Kde, kde
from geotrack.density.raster import Grid, clip_to_corridor, corridor_distance_m, density_grid
from geotrack.density.window import KERNEL, check_window

__all__ = [
    "KERNEL",
    "BandwidthChoice",
    "Bins",
    "Clustering",
    "Gaps",
    "Grid",
    "Hotspot",
    "Hotspots",
    "Kde",
    "bin_counts",
    "bin_edges",
    "check_window",
    "clip_to_corridor",
    "clustering",
    "corridor_distance_m",
    "cv_bandwidth",
    "density_grid",
    "gaps",
    "hotspots",
    "kde",
    "silverman_bandwidth",
]
