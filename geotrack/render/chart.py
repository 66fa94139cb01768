"""The trade chart: a self-contained Vega-Lite spec, and saving it as SVG or PNG.

:func:`trade_chart_spec` returns the chart as a plain ``dict`` with its data
inline (no URL, nothing fetched), so the map page can embed the very same spec
and a report can save it with :func:`save_chart` through ``vl-convert-python``
(no browser, no network).

What the chart shows, month by month on one x axis (every month of the range
has its slot, so a month without a figure is an empty slot, never bridged):

* bars: China's exports to North Korea and China's imports from North Korea;
* a line with points: total trade (the line breaks at every gap);
* on a second (right) axis: crossing sites first reported in the month;
* dashed rules with labels: events (e.g. a summit).

Figures are the ones chosen by the stated :class:`geotrack.trade.SelectionRule`;
the rule, the month rule and the currency are repeated in ``description`` and
in ``usermeta["geotrack"]``.  Every data record is in ``spec["data"]["values"]``;
a trade figure record looks like ``{"kind": "flow", "period": "2025-11",
"flow": "total_trade", "value": 281, ...}``.
"""

from __future__ import annotations

__all__ = [
    "VEGALITE_VERSION",
    "chart_png",
    "chart_svg",
    "save_chart",
    "trade_chart_spec",
]

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from geotrack.errors import OutputExistsError, StorageError, UsageError
from geotrack.store import atomic_write
from geotrack.trade import (
    CURRENCIES,
    DEFAULT_RULE,
    FLOWS,
    Event,
    FxRate,
    MonthlyJoin,
    SelectionRule,
    TradeRow,
    monthly_join,
)

#: The Vega-Lite version the spec is written for and rendered with
#: (``vl_convert.javascript_bundle(vl_version=VEGALITE_VERSION)`` gives the matching JS).
VEGALITE_VERSION = "6.4"
_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"

_CROSSINGS_LABEL = "Crossing sites first reported (right axis)"
_SERIES = {
    "cn_exports_to_kp": FLOWS["cn_exports_to_kp"],
    "cn_imports_from_kp": FLOWS["cn_imports_from_kp"],
    "total_trade": FLOWS["total_trade"],
}
_COLOURS = {
    FLOWS["cn_exports_to_kp"]: "#4c78a8",
    FLOWS["cn_imports_from_kp"]: "#f58518",
    FLOWS["total_trade"]: "#222222",
    _CROSSINGS_LABEL: "#54a24b",
}


def trade_chart_spec(
    rows: Sequence[TradeRow],
    *,
    crossings: Iterable[Mapping[str, Any]] = (),
    events: Sequence[Event] = (),
    currency: str = "USD",
    rule: SelectionRule = DEFAULT_RULE,
    start: str | None = None,
    end: str | None = None,
    derive_totals: bool = False,
    fx: Mapping[str, FxRate] | None = None,
    width: int = 900,
    height: int = 320,
    join: MonthlyJoin | None = None,
) -> dict[str, Any]:
    """The Vega-Lite spec of the trade chart, data inline, as a plain dict.

    Parameters
    ----------
    rows : sequence of TradeRow
        The trade table (:func:`geotrack.trade.load_trade`).
    crossings : iterable of dict
        Crossing site features (``Workspace.read_crossings()``) for the right axis.
    events : sequence of Event
        Events drawn as labelled rules (:func:`geotrack.trade.load_events`).
    currency : str
        The one currency charted (``USD`` or ``CNY``); figures in another
        currency are left out unless *fx* gives a recorded rate.
    rule : SelectionRule
        How one figure is chosen where sources disagree.
    start, end : str, optional
        First and last month (``YYYY-MM``); default: all months held.
    derive_totals : bool
        Draw a total computed as exports + imports where none is reported
        (such points are hollow and flagged ``derived``).
    fx : dict, optional
        Explicit conversion rates (:class:`geotrack.trade.FxRate`) by currency.
    width, height : int
        Plot size in pixels.
    join : MonthlyJoin, optional
        A join already computed (then *rows*, *crossings*, *events* and the
        options above are not used for the data).

    Returns
    -------
    dict
        A Vega-Lite v6 spec (JSON-ready; no external URL).

    Examples
    --------
    >>> from decimal import Decimal
    >>> rows = [TradeRow("2025-11", Decimal("281"), Decimal("244"), Decimal("37.1"),
    ...                  source="Korea JoongAng Daily", row_id="T0001")]
    >>> spec = trade_chart_spec(rows)
    >>> [d["value"] for d in spec["data"]["values"]
    ...  if d["kind"] == "flow" and d["period"] == "2025-11" and d["flow"] == "total_trade"]
    [281]
    """
    if currency not in CURRENCIES:
        raise UsageError(f"currency={currency!r}: use one of {', '.join(CURRENCIES)}")
    if join is None:
        join = monthly_join(
            rows,
            crossings,
            events,
            currency=currency,
            rule=rule,
            start=start,
            end=end,
            derive_totals=derive_totals,
            fx=fx,
        )
    currency = join.currency
    months = [m.period for m in join.months]
    values: list[dict[str, Any]] = []
    sources: set[str] = set()
    notes: list[str] = []
    for m in join.months:
        for flow, pt in m.trade.items():
            rec = pt.as_dict()
            rec.update(kind="flow", series=_SERIES[flow], period=m.period)
            values.append(rec)
            if pt.figure is not None:
                sources.add(pt.figure.source)
            if pt.note and pt.value is not None:
                notes.append(f"{m.period} {flow}: {pt.note}")
        values.append(
            {
                "kind": "crossings",
                "period": m.period,
                "series": _CROSSINGS_LABEL,
                "crossings_first_reported": m.crossings_first_reported,
                "reports_received": m.reports_received,
                "reports_active": m.reports_active,
            }
        )
    months_set = set(months)
    chart_events = [e for e in join.events if e.period in months_set]
    for e in chart_events:
        values.append(
            {
                "kind": "event",
                "period": e.period,
                "label": e.label,
                "date": e.date,
                "date_precision": e.date_precision,
                "source": e.source,
                "event_id": e.event_id,
            }
        )
    other = sorted(c for c in CURRENCIES if c != currency)
    with_other = sorted(
        {
            r.period
            for r in rows
            if r.currency in other and r.period in months_set and not (fx and r.currency in fx)
        }
    )
    span = f"{months[0]} to {months[-1]}" if months else "no months"
    subtitle = [
        f"China's customs (GACC) monthly figures as reported by {len(sources)} news "
        f"source(s) listed in trade.csv; {span}.",
        "Bars: China's exports to / imports from North Korea; line: total trade. "
        "Gaps are months with no figure held (nothing interpolated).",
        "Where sources disagree, one figure is shown by the stated rule; "
        "`geotrack trade conflicts` lists the others. Right axis: crossing sites first "
        "reported per month (UTC).",
    ]
    if with_other:
        subtitle.append(
            f"Not shown: figures in {'/'.join(other)} for {', '.join(with_other)} "
            "(one currency per chart; no conversion rate recorded)."
        )
    if derive_totals:
        subtitle.append("Hollow points: total derived as exports + imports, not reported.")
    if fx:
        subtitle.append(
            "Converted with recorded rates: "
            + "; ".join(r.describe(currency) for r in fx.values())
            + "."
        )
    title_text = f"China–North Korea trade by month ({currency} million) and reported crossings"
    axis_values = [p for i, p in enumerate(months) if i == 0 or p.endswith("-01")]
    x = {
        "field": "period",
        "type": "ordinal",
        "title": "Month (UTC)",
        "scale": {"domain": months, "paddingInner": 0.1},
        "axis": {
            "values": axis_values,
            "labelExpr": "substring(datum.value, 5, 7) == '01' || datum.index == 0"
            " ? substring(datum.value, 0, 4) : ''",
            "labelAngle": 0,
            "ticks": True,
        },
    }
    is_total = "datum.kind === 'flow' && datum.flow === 'total_trade' && datum.value !== null"
    is_bar = "datum.kind === 'flow' && datum.flow !== 'total_trade' && datum.value !== null"
    color = {
        "field": "series",
        "type": "nominal",
        "title": None,
        "scale": {"domain": list(_COLOURS), "range": list(_COLOURS.values())},
        "legend": {"orient": "bottom", "columns": 2, "labelLimit": 400},
    }
    tooltip_trade = [
        {"field": "period", "title": "Month"},
        {"field": "series", "title": "Flow"},
        {"field": "value", "title": f"{currency} million", "type": "quantitative"},
        {"field": "source", "title": "Source"},
        {"field": "article_date", "title": "Article date"},
        {"field": "row_id", "title": "Row"},
        {"field": "conflict", "title": "Other figures held"},
        {"field": "note", "title": "Note"},
    ]
    y_trade = {
        "field": "value",
        "type": "quantitative",
        "title": f"{currency} million",
        "axis": {"orient": "left"},
    }
    # Runs of consecutive months with a total: the line is drawn per run, so it
    # never bridges a gap.
    run = 0
    prev_ok = False
    for rec in values:
        if rec["kind"] == "flow" and rec["flow"] == "total_trade":
            ok = rec["value"] is not None
            if ok and not prev_ok:
                run += 1
            rec["run"] = run if ok else None
            prev_ok = ok
    trade_layer = {
        "layer": [
            {
                "transform": [{"filter": is_bar}],
                "mark": {"type": "bar"},
                "encoding": {
                    "xOffset": {"field": "flow", "type": "nominal", "sort": list(FLOWS)[1:]},
                    "y": y_trade,
                    "color": color,
                    "tooltip": tooltip_trade,
                },
            },
            {
                "transform": [{"filter": is_total}],
                "mark": {"type": "line", "strokeWidth": 1.5},
                "encoding": {
                    "y": y_trade,
                    "color": color,
                    "detail": {"field": "run", "type": "nominal"},
                },
            },
            {
                "transform": [{"filter": is_total}],
                "mark": {"type": "point", "filled": True, "size": 22},
                "encoding": {
                    "y": y_trade,
                    "color": color,
                    "fillOpacity": {"condition": {"test": "datum.derived", "value": 0}, "value": 1},
                    "tooltip": tooltip_trade,
                },
            },
        ]
    }
    max_count = max((m.crossings_first_reported for m in join.months), default=0)
    step = max(1, -(-max_count // 5))
    count_ticks = list(range(0, max(max_count, 1) + step, step))
    crossings_layer = {
        "transform": [{"filter": "datum.kind === 'crossings'"}],
        "mark": {"type": "line", "point": {"size": 14}, "strokeWidth": 1, "opacity": 0.8},
        "encoding": {
            "y": {
                "field": "crossings_first_reported",
                "type": "quantitative",
                "title": "Crossing sites first reported",
                "scale": {"domainMin": 0, "domainMax": max(max_count, 1), "nice": False},
                "axis": {"orient": "right", "values": count_ticks, "format": "d"},
            },
            "color": color,
            "tooltip": [
                {"field": "period", "title": "Month"},
                {"field": "crossings_first_reported", "title": "Sites first reported"},
                {"field": "reports_received", "title": "Reports received"},
                {"field": "reports_active", "title": "Reports covering the month"},
            ],
        },
    }
    layers: list[dict[str, Any]] = [trade_layer, crossings_layer]
    if chart_events:
        layers.append(
            {
                "transform": [{"filter": "datum.kind === 'event'"}],
                "mark": {"type": "rule", "strokeDash": [6, 3], "color": "#b279a2"},
                "encoding": {
                    "x": {"field": "period", "type": "ordinal", "bandPosition": 0.5},
                    "tooltip": [
                        {"field": "label", "title": "Event"},
                        {"field": "date", "title": "Date"},
                        {"field": "source", "title": "Source"},
                    ],
                },
            }
        )
        layers.append(
            {
                "transform": [{"filter": "datum.kind === 'event'"}],
                "mark": {
                    "type": "text",
                    "align": "right",
                    "baseline": "top",
                    "dx": -3,
                    "dy": 3,
                    "color": "#7a4f6d",
                    "fontSize": 11,
                },
                "encoding": {
                    "x": {"field": "period", "type": "ordinal", "bandPosition": 0.5},
                    "text": {"field": "label"},
                    "y": {"value": 0},
                },
            }
        )
    meta = {
        "currency": currency,
        "unit": "million",
        "rule": join.rule,
        "month_rule": join.month_rule,
        "months": len(months),
        "sources": sorted(sources),
        "not_shown_other_currency": with_other,
        "notes": notes,
    }
    return {
        "$schema": _SCHEMA,
        "description": (f"{title_text}. {join.rule} {join.month_rule}"),
        "title": {"text": title_text, "subtitle": subtitle, "anchor": "start"},
        "width": width,
        "height": height,
        "data": {"values": values},
        "encoding": {"x": x},
        "layer": layers,
        "resolve": {"scale": {"y": "independent"}},
        "config": {
            "font": "DejaVu Sans, sans-serif",
            "view": {"stroke": None},
            "axis": {"grid": False},
            "title": {"subtitleFontSize": 10, "fontSize": 14},
        },
        "usermeta": {"geotrack": meta},
    }


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def chart_svg(spec: Mapping[str, Any]) -> str:
    """Render *spec* to SVG text with ``vl-convert`` (no browser, no network).

    Examples
    --------
    >>> chart_svg({"data": {"values": [{"a": 1}]}, "mark": "point",
    ...            "encoding": {"x": {"field": "a", "type": "quantitative"}}}).startswith("<svg")
    True
    """
    vlc = _vl_convert()
    svg = vlc.vegalite_to_svg(dict(spec), vl_version=VEGALITE_VERSION, allowed_base_urls=[])
    # Vega copies tooltip text (trade sources, notes) into aria-label attributes as it is:
    # characters XML cannot hold would make the SVG unreadable, so they become U+FFFD.
    return _XML_INVALID.sub("\ufffd", svg)


def chart_png(spec: Mapping[str, Any], *, scale: float = 2.0) -> bytes:
    """Render *spec* to PNG bytes with ``vl-convert`` (*scale* 2 suits print).

    Examples
    --------
    >>> chart_png({"data": {"values": [{"a": 1}]}, "mark": "point",
    ...            "encoding": {"x": {"field": "a", "type": "quantitative"}}})[:4]
    b'\\x89PNG'
    """
    vlc = _vl_convert()
    return vlc.vegalite_to_png(
        dict(spec), vl_version=VEGALITE_VERSION, scale=scale, allowed_base_urls=[]
    )


def save_chart(
    spec: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    scale: float = 2.0,
) -> Path:
    """Save *spec* as ``.svg`` or ``.png`` (chosen by the suffix), atomically.

    Raises
    ------
    UsageError
        The suffix is neither ``.svg`` nor ``.png``.
    StorageError
        The file exists and *overwrite* is false, or it cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.svg"
    >>> save_chart({"data": {"values": [{"a": 1}]}, "mark": "point",
    ...             "encoding": {"x": {"field": "a", "type": "quantitative"}}}, p).suffix
    '.svg'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise UsageError(f"-o {path}: the chart is saved as .svg or .png; change the suffix")
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path} exists; pass --overwrite to replace it (nothing was written)"
        )
    data = chart_svg(spec).encode("utf-8") if suffix == ".svg" else chart_png(spec, scale=scale)
    atomic_write(path, data)
    return path


def _vl_convert():
    try:
        import vl_convert
    except ImportError:  # pragma: no cover - a declared dependency
        raise StorageError(
            "saving the chart needs vl-convert-python; `pip install vl-convert-python`"
        ) from None
    return vl_convert
