"""``geotrack trade``: the official China–North Korea trade series beside the crossings.

Subcommands: list, import, conflicts, check-claim, join, chart, events (list, add, remove).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from geotrack.cli._common import emit_json, open_workspace, report, terminal_safe, workspace_option
from geotrack.cli._options import (
    apply_options,
    include_retired_option,
    output_option,
    reason_option,
)
from geotrack.errors import OutputExistsError, UsageError
from geotrack.store import atomic_write
from geotrack.trade import (
    CURRENCIES,
    FLOWS,
    MONTH_RULE,
    FxRate,
    SelectionRule,
    add_event,
    annual_checks,
    annual_rows,
    check_claim,
    crossing_counts,
    find_conflicts,
    import_trade,
    join_csv_text,
    list_months,
    load_events,
    load_trade,
    monthly_join,
    parse_month,
    remove_event,
)

_rule_options = [
    click.option(
        "--prefer-source",
        "prefer_sources",
        multiple=True,
        metavar="NAME",
        help="Prefer figures from sources whose name contains NAME (repeatable; first wins).",
    ),
    click.option(
        "--ignore-recorded",
        is_flag=True,
        help="Ignore preferences recorded with `trade import --prefer`.",
    ),
]


def _month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A month option checked before any work (a bad one is a usage error, exit 2)."""
    if value is None:
        return None
    try:
        return parse_month(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from None


_range_options = [
    click.option(
        "--from",
        "start",
        default=None,
        metavar="MONTH",
        callback=_month,
        help="First month (2019-10).",
    ),
    click.option(
        "--to", "end", default=None, metavar="MONTH", callback=_month, help="Last month (2025-11)."
    ),
]
_currency_option = click.option(
    "--currency",
    type=click.Choice(sorted(CURRENCIES)),
    default="USD",
    show_default=True,
    help="The one currency of the series (figures in another are left out).",
)


def _rule(prefer_sources: tuple[str, ...], ignore_recorded: bool) -> SelectionRule:
    return SelectionRule(
        prefer_sources=tuple(s for s in prefer_sources if s.strip()),
        use_recorded=not ignore_recorded,
    )


def _num(d: Decimal | None) -> str:
    return "" if d is None else format(d, "f")


def _clip(text: str, width: int) -> str:
    text = terminal_safe(text)
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group("trade")
def trade() -> None:
    """Official China–North Korea trade (China's customs figures as reported).

    Figures are in million, USD unless a row says CNY.  Every row is kept:
    where sources disagree, `trade conflicts` lists both and charts use one
    figure chosen by a stated rule (--prefer-source changes it).

    \b
    Example:
        geotrack trade list
        geotrack trade check-claim --month 2025-11 --highest-since 2019-10
        geotrack trade chart -o trade.svg
    """


# -- list ------------------------------------------------------------------------------


@trade.command("list")
@workspace_option
@apply_options(_range_options)
@apply_options(_rule_options)
@click.option(
    "--annual",
    is_flag=True,
    help="List the annual totals (period kind year), each checked against the months held.",
)
@click.option(
    "--derive-totals",
    is_flag=True,
    help="With --annual: count a month with both flows but no total as their sum (marked derived).",
)
@_currency_option
@click.option("--json", "as_json", is_flag=True, help="Print the months as JSON.")
def list_cmd(
    workspace,
    start,
    end,
    prefer_sources,
    ignore_recorded,
    annual,
    derive_totals,
    currency,
    as_json,
):
    """List the series month by month; months with no figure are shown as gaps.

    Every row is printed.  Where a month has different figures for a flow,
    each is marked `!` and the one charts use is marked `*`.  With --annual,
    the annual totals as reported, and what the months held sum to.

    \b
    Example:
        geotrack trade list --from 2025-01
        geotrack trade list --json | jq '.gaps'
        geotrack trade list --annual
    """
    ws = open_workspace(workspace)
    rows = load_trade(ws.path)
    rule = _rule(prefer_sources, ignore_recorded)
    if derive_totals and not annual:
        raise UsageError("--derive-totals goes with --annual (charts and joins have their own)")
    if annual:
        _list_annual(ws, rows, rule, currency=currency, derive=derive_totals, as_json=as_json)
        return
    n_annual = len(annual_rows(rows))
    rows = [r for r in rows if r.kind == "month"]
    months = list_months(rows, rule=rule, start=start, end=end)
    gaps = [m.period for m in months if m.gap]
    no_total = [
        m.period for m in months if not m.gap and not any(f == "total_trade" for f, _ in m.chosen)
    ]
    if as_json:
        emit_json(
            {
                "file": str(ws.path / "trade.csv"),
                "unit": "million",
                "rule": rule.describe(),
                "rows": len(rows),
                "annual_rows": n_annual,
                "months": [_month_json(m) for m in months],
                "gaps": gaps,
                "months_without_total": no_total,
            }
        )
        return
    if not months:
        click.echo("The trade table is empty; add figures with `geotrack trade import FILE`.")
        return
    header = ["month", "total", "cn_exports", "cn_imports", "cur", "source", "article", "flags"]
    table: list[list[str]] = []
    for m in months:
        if m.gap:
            table.append([m.period, "-- gap: no figure held --", "", "", "", "", "", ""])
            continue
        conflicted = {(c.flow, c.currency) for c in m.conflicts}
        for r in m.rows:
            cells = [m.period]
            for flow in FLOWS:
                v = r.value(flow)
                text = _num(v)
                if v is not None and (flow, r.currency) in conflicted:
                    chosen = m.chosen.get((flow, r.currency))
                    text += " !*" if chosen is not None and chosen.row_id == r.row_id else " !"
                cells.append(text)
            cells += [
                r.currency,
                _clip(r.source, 44),
                r.article_date,
                ";".join(r.flags)
                + (" pref:" + ",".join(r.preferred_for) if r.preferred_for else ""),
            ]
            table.append(cells)
    _echo_table(table, header)
    click.echo("")
    click.echo(
        f"{len(rows)} rows; {len(months)} months from {months[0].period} to {months[-1].period}; "
        f"{len(gaps)} with no figure (gaps): {', '.join(gaps) or 'none'}."
    )
    click.echo(
        f"{len(no_total)} more months have figures but no total: {', '.join(no_total) or 'none'}."
    )
    if n_annual:
        click.echo(f"{n_annual} annual totals are held too: `geotrack trade list --annual`.")
    click.echo(
        "Figures in million of the row's currency. ! = sources disagree; * = figure used in charts."
    )
    click.echo(terminal_safe(rule.describe()))


def _list_annual(ws, rows, rule, *, currency: str, derive: bool, as_json: bool) -> None:
    years = annual_rows(rows)
    checks = annual_checks(rows, currency=currency, rule=rule, derive_totals=derive)
    conflicts = find_conflicts(years, rule=rule)
    if as_json:
        emit_json(
            {
                "file": str(ws.path / "trade.csv"),
                "unit": "million",
                "currency": currency,
                "rule": rule.describe(),
                "derive_totals": derive,
                "rows": [r.to_record() for r in years],
                "conflicts": [c.as_dict() for c in conflicts],
                "checks": [c.as_dict() for c in checks],
            }
        )
        return
    if not years:
        click.echo(
            "The trade table holds no annual total; import one with "
            "`geotrack trade import FILE` (a file with a year column)."
        )
        return
    header = ["year", "total", "cn_exports", "cn_imports", "cur", "source", "article", "flags"]
    conflicted = {(c.period, c.flow, c.currency) for c in conflicts}
    chosen = {(c.period, c.flow, c.currency): c.chosen.row_id for c in conflicts}
    table = []
    for r in sorted(years, key=lambda r: r.period):
        cells = [r.period]
        for flow in FLOWS:
            v = r.value(flow)
            text = _num(v)
            key = (r.period, flow, r.currency)
            if v is not None and key in conflicted:
                text += " !*" if chosen[key] == r.row_id else " !"
            cells.append(text)
        cells += [r.currency, _clip(r.source, 44), r.article_date, ";".join(r.flags)]
        table.append(cells)
    _echo_table(table, header)
    click.echo("")
    for c in checks:
        click.echo(terminal_safe(c.text))
    click.echo(
        "Figures in million of the row's currency (annual figures as reported, rescaled exactly). "
        "! = sources disagree; * = the figure the rule chooses."
    )
    click.echo(rule.describe())


def _warn_out_of_range(undated: Sequence[str]) -> None:
    """Name, on stderr, each stored date outside 1900..today that was left out of the months."""
    for line in undated:
        if "is outside" in line:
            click.echo(f"geotrack: warning: {terminal_safe(line)}", err=True)


def _month_json(m) -> dict[str, Any]:
    chosen_by_row: dict[str, list[str]] = {}
    for (flow, _cur), fig in m.chosen.items():
        chosen_by_row.setdefault(fig.row_id, []).append(flow)
    return {
        "period": m.period,
        "gap": m.gap,
        "rows": [{**r.to_record(), "chosen_for": chosen_by_row.get(r.row_id, [])} for r in m.rows],
        "chosen": [fig.as_dict() for fig in m.chosen.values()],
        "conflicts": [c.as_dict() for c in m.conflicts],
    }


def _echo_table(rows: list[list[str]], header: list[str]) -> None:
    """Aligned columns; a gap line is printed as it is."""
    full = [header] + [r for r in rows if not r[1].startswith("-- gap")]
    widths = [max(len(r[i]) for r in full) for i in range(len(header))]
    for r in [header, *rows]:
        if r[1].startswith("-- gap"):
            click.echo(f"{r[0].ljust(widths[0])}  {r[1]}")
        else:
            click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


# -- import ----------------------------------------------------------------------------


@trade.command("import")
@workspace_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    "mappings",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read FIELD from the file's COLUMN (repeatable). Fields: period, total_trade, "
    "cn_exports_to_kp, cn_imports_from_kp, currency, unit, source, article_date, source_url, "
    "note, flags.",
)
@click.option("--source", default=None, help="Source (publisher) for rows without a source column.")
@click.option("--source-url", default=None, help="URL for rows without a source_url column.")
@click.option("--article-date", default=None, help="Article date (YYYY-MM-DD) for every row.")
@click.option("--currency", default=None, help="Currency for rows without one: USD or CNY.")
@click.option(
    "--unit",
    default=None,
    help="Unit of the figures: one, thousand, ten_thousand, million, hundred_million, billion.",
)
@click.option("--note", default=None, help="Note for rows without a note column.")
@click.option("--sheet", default=None, help="Worksheet of an .xlsx file (default: the first).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Encoding of a CSV.")
@click.option(
    "--prefer",
    default=None,
    metavar="SOURCE",
    help="Where the file conflicts with figures held, record that SOURCE's figure wins.",
)
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@reason_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_cmd(
    workspace,
    file,
    mappings,
    source,
    source_url,
    article_date,
    currency,
    unit,
    note,
    sheet,
    encoding,
    prefer,
    dry_run,
    reason,
    as_json,
):
    """Import monthly figures from FILE (CSV, or .xlsx with openpyxl): all rows or none.

    Months may be written 2025-11, Nov 2025, 2025年11月, 2025.11 or 11/2025.
    Figures are rescaled exactly to million.  A figure that differs from one
    already held for the same month and flow is added beside it and reported
    as a conflict; nothing held is overwritten.

    \b
    Example:
        geotrack trade import gacc.csv --mapping period=Month \\
            --mapping total_trade="Total" --currency USD --unit thousand --source GACC
        geotrack trade import more.csv --prefer "GACC" --dry-run
    """
    ws = open_workspace(workspace)
    mapping: dict[str, str] = {}
    for item in mappings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"--mapping {item!r}: write FIELD=COLUMN, e.g. period=Month")
        mapping[key.strip()] = value.strip()
    defaults = {
        "source": source,
        "source_url": source_url,
        "article_date": article_date,
        "currency": currency,
        "unit": unit,
        "note": note,
    }
    result = import_trade(
        ws.path,
        file,
        mapping=mapping,
        defaults={k: v for k, v in defaults.items() if v is not None},
        prefer=prefer,
        dry_run=dry_run,
        sheet=sheet,
        encoding=encoding,
        reason=reason,
    )
    if as_json:
        emit_json(result.as_dict())
        return
    verb = "would add" if dry_run else "added"
    ids = ", ".join(r.row_id for r in result.added)
    report(
        f"{terminal_safe(result.file)}: {verb} {len(result.added)} row(s){': ' + ids if ids else ''}",
    )
    if result.duplicates:
        report(
            f"already held (skipped): {len(result.duplicates)} row(s): "
            + ", ".join(f"{r.period} = {rid}" for r, rid in result.duplicates),
        )
    if result.ignored_columns:
        report(
            "columns not used: " + ", ".join(terminal_safe(c) for c in result.ignored_columns),
        )
    if result.conflicts:
        report(
            f"conflicts with figures held ({len(result.conflicts)}); both are kept:",
        )
        for c in result.conflicts:
            report("  " + terminal_safe(c.describe()))
    for p, f, cur, rids in result.preferences:
        report(
            f"recorded: {p} {f} ({cur}) uses {', '.join(rids)} (--prefer {terminal_safe(prefer)})",
        )
    for u in result.unmatched_prefer:
        report(f"--prefer not applied: {terminal_safe(u)}")
    if result.conflicts:
        report(result.rule)
    if dry_run:
        report("dry run: nothing written")


# -- conflicts ---------------------------------------------------------------------------


@trade.command("conflicts")
@workspace_option
@apply_options(_rule_options)
@click.option("--json", "as_json", is_flag=True, help="Print the conflicts as JSON.")
def conflicts_cmd(workspace, prefer_sources, ignore_recorded, as_json):
    """List every month and flow for which sources give different figures (all kept).

    \b
    Example:
        geotrack trade conflicts
        geotrack trade conflicts --prefer-source "Korea JoongAng"
    """
    ws = open_workspace(workspace)
    rule = _rule(prefer_sources, ignore_recorded)
    found = find_conflicts(load_trade(ws.path), rule=rule)
    if as_json:
        emit_json({"rule": rule.describe(), "conflicts": [c.as_dict() for c in found]})
        return
    for c in found:
        click.echo(terminal_safe(c.describe()))
    click.echo(f"{len(found)} conflict(s). Figures in million. {terminal_safe(rule.describe())}")


# -- check-claim ---------------------------------------------------------------------------


@trade.command("check-claim")
@workspace_option
@click.option(
    "--month", required=True, callback=_month, help="The month claimed to be the highest (2025-11)."
)
@click.option(
    "--highest-since", required=True, callback=_month, help="...since this month (2019-10)."
)
@click.option(
    "--flow",
    type=click.Choice(list(FLOWS)),
    default="total_trade",
    show_default=True,
    help="Which flow the claim is about.",
)
@_currency_option
@apply_options(_rule_options)
@click.option("--json", "as_json", is_flag=True, help="Print the check as JSON.")
@click.pass_context
def check_claim_cmd(
    ctx, workspace, month, highest_since, flow, currency, prefer_sources, ignore_recorded, as_json
):
    """Check "MONTH was the highest since HIGHEST-SINCE" against the series held.

    Says whether the series agrees, which months it could not check (no
    figure held) and which other figures held would change the answer.
    Exit status 0 if it agrees, 1 if it disagrees or cannot check.

    \b
    Example:
        geotrack trade check-claim --month 2025-11 --highest-since 2019-10
    """
    ws = open_workspace(workspace)
    rule = _rule(prefer_sources, ignore_recorded)
    result = check_claim(
        load_trade(ws.path),
        month=month,
        highest_since=highest_since,
        flow=flow,
        currency=currency,
        rule=rule,
    )
    if as_json:
        emit_json(result.as_dict())
    else:
        click.echo(terminal_safe(result.text))
        click.echo(terminal_safe(result.rule))
    if result.verdict != "agrees":
        ctx.exit(1)


# -- join -------------------------------------------------------------------------------------


@trade.command("join")
@workspace_option
@click.option("--json", "fmt", flag_value="json", help="Write JSON (months, events, rules).")
@click.option("--csv", "fmt", flag_value="csv", default=True, help="Write CSV (the default).")
@output_option(help="Write to this file instead of stdout.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@apply_options(_range_options)
@_currency_option
@include_retired_option
@click.option(
    "--derive-totals",
    is_flag=True,
    help="Fill a missing total with exports + imports, flagged derived.",
)
@apply_options(_rule_options)
def join_cmd(
    workspace,
    fmt,
    output,
    overwrite,
    start,
    end,
    currency,
    include_retired,
    derive_totals,
    prefer_sources,
    ignore_recorded,
):
    """Per month: crossings first reported, reports received and active, beside trade.

    Months are UTC calendar months; the chosen trade figure per flow is given
    with its source, and events are listed in their month.

    \b
    Example:
        geotrack trade join --from 2025-01 -o join.csv
        geotrack trade join --json | jq '.months[-1]'
    """
    ws = open_workspace(workspace)
    rule = _rule(prefer_sources, ignore_recorded)
    join = monthly_join(
        load_trade(ws.path),
        ws.read_crossings(include_retired=include_retired),
        load_events(ws.path),
        currency=currency,
        rule=rule,
        start=start,
        end=end,
        derive_totals=derive_totals,
    )
    _warn_out_of_range(join.undated)
    if fmt == "json":
        import orjson

        data = orjson.dumps(join.as_dict(), option=orjson.OPT_INDENT_2) + b"\n"
    else:
        data = join_csv_text(join).encode("utf-8")
    if output is None:
        click.get_binary_stream("stdout").write(data)
    else:
        if output.exists() and not overwrite:
            raise OutputExistsError(
                f"{output} exists; pass --overwrite to replace it (nothing was written)"
            )
        atomic_write(output, data)
        click.echo(f"wrote {len(join.months)} months to {terminal_safe(output)}", err=True)
    if fmt != "json":
        # CSV has no place for metadata: the rules go to stderr (JSON carries them).
        click.echo(terminal_safe(f"{join.rule} {MONTH_RULE}"), err=True)


# -- chart -------------------------------------------------------------------------------------


@trade.command("chart")
@workspace_option
@output_option(required=True, help="FILE.svg or FILE.png (or FILE.json for the Vega-Lite spec).")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@apply_options(_range_options)
@_currency_option
@include_retired_option
@click.option(
    "--derive-totals",
    is_flag=True,
    help="Draw exports + imports where no total is held (hollow points).",
)
@click.option(
    "--fx",
    "fx_items",
    multiple=True,
    metavar="CUR=RATE",
    help="Convert figures in CUR at RATE (units of --currency per CUR); needs --fx-source.",
)
@click.option(
    "--fx-source", default=None, help="Where the --fx rate comes from (recorded in the chart)."
)
@click.option("--width", type=click.IntRange(200, 4000), default=900, show_default=True)
@click.option("--height", type=click.IntRange(100, 3000), default=320, show_default=True)
@click.option(
    "--scale", type=click.FloatRange(0.5, 8), default=2.0, show_default=True, help="PNG scale."
)
@apply_options(_rule_options)
def chart_cmd(
    workspace,
    output,
    overwrite,
    start,
    end,
    currency,
    include_retired,
    derive_totals,
    fx_items,
    fx_source,
    width,
    height,
    scale,
    prefer_sources,
    ignore_recorded,
):
    """Save the trade chart (bars per flow, total line, crossings, events) as SVG or PNG.

    Rendered offline with vl-convert.  Gaps stay gaps; the title states the
    currency and unit, the subtitle the sources and the rule.

    \b
    Example:
        geotrack trade chart -o trade.svg
        geotrack trade chart -o trade.png --from 2023-01 --scale 3
    """
    from geotrack.render.chart import save_chart, trade_chart_spec

    ws = open_workspace(workspace)
    fx = _parse_fx(fx_items, fx_source)
    crossings = ws.read_crossings(include_retired=include_retired)
    _warn_out_of_range(crossing_counts(crossings)[1])
    spec = trade_chart_spec(
        load_trade(ws.path),
        crossings=crossings,
        events=load_events(ws.path),
        currency=currency,
        rule=_rule(prefer_sources, ignore_recorded),
        start=start,
        end=end,
        derive_totals=derive_totals,
        fx=fx,
        width=width,
        height=height,
    )
    if output.suffix.lower() == ".json":
        import orjson

        if output.exists() and not overwrite:
            raise OutputExistsError(
                f"{output} exists; pass --overwrite to replace it (nothing was written)"
            )
        atomic_write(output, orjson.dumps(spec, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        save_chart(spec, output, overwrite=overwrite, scale=scale)
    click.echo(f"wrote {terminal_safe(output)}", err=True)


def _parse_fx(items: tuple[str, ...], source: str | None) -> dict[str, FxRate]:
    fx: dict[str, FxRate] = {}
    for item in items:
        cur, sep, rate = item.partition("=")
        cur = cur.strip().upper()
        try:
            value = Decimal(rate.strip())
        except InvalidOperation:
            value = Decimal(-1)
        if not sep or cur not in CURRENCIES or not value.is_finite() or value <= 0:
            raise UsageError(
                f"--fx {item!r}: write CUR=RATE with CUR in {', '.join(CURRENCIES)} and RATE > 0"
            )
        fx[cur] = FxRate(cur, value, source or "")
    if fx and not (source and source.strip()):
        raise UsageError(
            "--fx needs --fx-source: a conversion is shown only with its recorded source"
        )
    return fx


# -- events -------------------------------------------------------------------------------------


@trade.group("events")
def events() -> None:
    """Events drawn on the trade chart and listed in the join (user-editable).

    \b
    Example:
        geotrack trade events list
    """


@events.command("list")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
def events_list_cmd(workspace, as_json):
    """List the events.

    \b
    Example:
        geotrack trade events list
    """
    ws = open_workspace(workspace)
    evs = load_events(ws.path)
    if as_json:
        emit_json([e.as_dict() for e in evs])
        return
    for e in evs:
        click.echo(
            "  ".join(
                terminal_safe(x)
                for x in (e.event_id, e.date, e.date_precision, e.label, e.source, e.source_url)
            )
        )
    if not evs:
        click.echo("no events; add one with `geotrack trade events add`", err=True)


@events.command("add")
@workspace_option
@click.option("--date", "date_", required=True, help="YYYY-MM-DD, or YYYY-MM when no day is cited.")
@click.option("--label", required=True, help="Short label drawn on the chart.")
@click.option("--source", required=True, help="Source (publisher, date).")
@click.option("--url", default="", help="Source URL.")
@click.option("--note", default="", help="Free text.")
@reason_option
def events_add_cmd(workspace, date_, label, source, url, note, reason):
    """Add an event; print its id.

    \b
    Example:
        geotrack trade events add --date 2025-09 --label "Kim–Xi summit" \\
            --source "Korea JoongAng Daily, 2025-12-19"
    """
    ws = open_workspace(workspace)
    ev = add_event(
        ws.path, date=date_, label=label, source=source, source_url=url, note=note, reason=reason
    )
    click.echo(ev.event_id)


@events.command("remove")
@workspace_option
@click.argument("event_id")
@reason_option
def events_remove_cmd(workspace, event_id, reason):
    """Remove event EVENT_ID (the history keeps it).

    \b
    Example:
        geotrack trade events remove E1 --reason "duplicate"
    """
    ws = open_workspace(workspace)
    gone = remove_event(ws.path, event_id, reason=reason)
    click.echo(f"removed {gone.event_id}: {terminal_safe(gone.label)}")
