"""Density of crossings along the river: from a workspace to one result.

:func:`density_report` reads the crossings of a :class:`~geotrack.workspace.Workspace`,
locates them on the stretch line (:mod:`geotrack.linear`), applies the
filters, and computes every statistic of :mod:`geotrack.density` over a
window of the river.  It returns a :class:`DensityResult` whose
:meth:`~DensityResult.as_dict` is the JSON document of ``geotrack density
--json``; the exporters in :mod:`geotrack.export.density_layers` write its
layers.  Nothing here prints.

Rules stated in every result:

* retired crossings are never counted;
* a crossing farther from the stretch line than ``max_offset_km`` is excluded
  from the statistics and listed with the reason, never dropped silently;
* filters on location precision, verification status and Admiralty grades
  are stated in ``filters``;
* each crossing is a distribution along the river (:func:`site_interval`):
  a point, or uniform over a stretch ``[lo, hi]`` km; bins hold expected
  counts and the kernel density is the sum of each site's spread convolved
  with the kernel; a site partly inside the window counts for the part
  inside.  The hotspot and clustering tests use the point-located crossings
  only unless ``include_spread``.

The options are ``_options``, the result ``_result``; which crossings count
and where each lies is ``_sites``, the bandwidth ``_bandwidth``, and the
computation from crossings to result ``_report``.
"""

from __future__ import annotations

__all__ = [
    "BANDWIDTH_RULES",
    "DEFAULT_SEED",
    "MAX_SIMULATIONS",
    "MIN_BIN_KM",
    "MIN_CV_SITES",
    "DensityOptions",
    "DensityResult",
    "analyse",
    "density_report",
    "site_interval",
]

from geotrack.analysis._options import (
    BANDWIDTH_RULES,
    DEFAULT_SEED,
    MAX_SIMULATIONS,
    MIN_BIN_KM,
    MIN_CV_SITES,
    DensityOptions,
)
from geotrack.analysis._options import (
    DEFAULT_CORRIDOR_KM as DEFAULT_CORRIDOR_KM,  # the CLI repeats it (see its test)
)
from geotrack.analysis._options import (
    MAX_CORRIDOR_KM as MAX_CORRIDOR_KM,
)
from geotrack.analysis._report import analyse, density_report
from geotrack.analysis._result import DensityResult
from geotrack.analysis._sites import site_interval
