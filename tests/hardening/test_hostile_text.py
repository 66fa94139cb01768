"""Hostile text in every text field, then every output checked.

One workspace is built through real ``geotrack`` processes with every payload of
:mod:`hardening.payloads` in every text field of a site and of its reports (name, source
name, URL, archive URL, notes; through ``crossings import`` from a file and through ``add``,
``edit``, ``add-report`` and ``retire`` options, and as reasons in the history), in the trade
table (source, URL, note), in events (label, source, note) and in a window's description.
Then every output is checked:

* the layer, ``crossings list --json`` and the GeoJSON export: text exactly as given;
* GeoPackage: exactly, NUL as U+FFFD (GDAL cuts text at NUL);
* KML/KMZ: well-formed XML (parsed with defusedxml), text intact with the characters XML
  cannot hold as U+FFFD; balloons are HTML of a few plain tags, links only to http(s);
* CSV (the export and ``trade join``): no cell a spreadsheet would run as a formula;
* the SVG trade chart: no script, no event handler;
* the map page in headless Chromium: no dialog, no script of ours runs, title and DOM as
  built, text shown literally;
* the CLI's own terminal output: no raw control, escape or bidirectional-override character.
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import defusedxml.ElementTree as SafeET
import orjson
import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.schema import KINDS, STATUSES, VERIFICATIONS
from geotrack.workspace import Workspace
from hardening._run import FIGURES, geotrack
from hardening.payloads import (
    FORMULA_START,
    PAYLOADS,
    URL_PAYLOADS,
    argv_safe,
    as_xml,
    assert_terminal_clean,
    without_nul,
)

KML = "{http://www.opengis.net/kml/2.2}"
NAMES = list(PAYLOADS)
URLS = list(URL_PAYLOADS.values())
ARGV_PAYLOADS = {k: v for k, v in PAYLOADS.items() if argv_safe(v) and k != "long_50k"}
TITLE = "Yalu </title><script>window.__gt_pwned=20</script> 압록강 🚣 ${x} `y` \\ ' \""


pytestmark = pytest.mark.slow  # the shared workspace takes about half a minute to build


def _ok(res, what: str) -> bytes:
    assert res.returncode == 0, f"{what}: {res.stderr.decode('utf-8', 'replace')[-3000:]}"
    return res.stdout


def _feature(i: int, key: str, text: str, ws: Workspace) -> dict:
    point = ws.stretch.line_wgs84.interpolate(0.03 + 0.7 * i / len(NAMES), normalized=True)
    kinds, statuses, vers = list(KINDS), list(STATUSES), list(VERIFICATIONS)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
        "properties": {
            "name": text,
            "kind": kinds[i % len(kinds)],
            "status": statuses[i % len(statuses)],
            "synthetic": True,
            "reports": [
                {
                    "source_name": text,
                    "source_type": "media",
                    "url": URLS[i % len(URLS)],
                    "archive_url": URLS[(i + 1) % len(URLS)],
                    "reported": "2025-12-16",
                    "event_start": "2025-10",
                    "event_end": "2025-11",
                    "reliability": "B",
                    "credibility": 3,
                    "verification": vers[i % len(vers)],
                    "notes": text,
                },
                {"source_name": f"{key} R2", "url": "https://example.org/r2", "notes": text},
            ],
        },
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The hostile workspace, its exports, map and chart; and what each crossing must hold."""
    tmp = tmp_path_factory.mktemp("hostile-text")
    ws_path = tmp / "ws"
    _ok(geotrack("init", "--empty", ws_path), "init")
    w = ("-w", ws_path)
    ws = Workspace.open(ws_path)
    feats = [_feature(i, k, PAYLOADS[k], ws) for i, k in enumerate(NAMES)]
    fc = orjson.dumps({"type": "FeatureCollection", "features": feats})
    reason = PAYLOADS["osc52_clipboard"]
    out = _ok(
        geotrack("crossings", "import", *w, "-", "--force-far", "--reason", reason, input=fc),
        "import",
    )
    ids = out.decode().split()
    assert len(ids) == len(NAMES)
    expected = {
        fid: {"name": PAYLOADS[k], "reports": [f["properties"]["reports"][0]["notes"]] * 2}
        for fid, k, f in zip(ids, NAMES, feats, strict=True)
    }
    sources = {fid: [PAYLOADS[k], f"{k} R2"] for fid, k in zip(ids, NAMES, strict=True)}
    urls = {fid: [URLS[i % len(URLS)], "https://example.org/r2"] for i, fid in enumerate(ids)}
    # through the options of add, edit, add-report, edit --report and retire
    point = ws.stretch.line_wgs84.interpolate(0.5, normalized=True)
    ll = ("--lon", f"{point.x:.6f}", "--lat", f"{point.y:.6f}", "--force-far")
    for key, text in ARGV_PAYLOADS.items():
        url = "https://example.org/" + key
        fid = _ok(
            geotrack(
                "crossings", "add", "--allow-near", *w, *ll, "--kind", "ford", "--name", text,
                "--source", text, "--url", url, "--notes", text, "--reason", text,
            ),
            f"add {key}",
        ).decode().strip()  # fmt: skip
        expected[fid] = {"name": text, "reports": [text]}
        sources[fid] = [text]
        urls[fid] = [url]
    some = list(ARGV_PAYLOADS.items())[:4]
    for (key, text), fid in zip(some, list(expected)[-4:], strict=True):
        _ok(geotrack("crossings", "edit", *w, fid, "--name", text + " v2", "--reason", text), key)
        rid = _ok(
            geotrack("crossings", "add-report", *w, fid, "--source", text, "--notes", text + "!"),
            key,
        )
        assert rid.strip() == b"R2"
        _ok(geotrack("crossings", "edit", *w, fid, "--report", "R1", "--notes", text + "?"), key)
        expected[fid] = {"name": text + " v2", "reports": [text + "?", text + "!"]}
        sources[fid] = [sources[fid][0], text]
        urls[fid] = [urls[fid][0], None]
    retired = _ok(
        geotrack("crossings", "add", "--allow-near", *w, *ll, "--kind", "ford", "--source", "x"),
        "add",
    )
    _ok(
        geotrack("crossings", "retire", *w, retired.decode().strip(), "--reason", TITLE),
        "retire",
    )
    # trade rows, events and a window description
    buf = io.StringIO(newline="")
    tw = csv.writer(buf)
    tw.writerow(["period", "total_trade", "currency", "unit", "source", "source_url", "note"])
    trade_texts = [PAYLOADS[k].replace("\x00", "") for k in NAMES]
    for j, text in enumerate(trade_texts):
        period = f"{2031 + j // 12}-{j % 12 + 1:02d}"
        tw.writerow([period, 100 + j, "USD", "million", f"S{j} {text}", URLS[j % len(URLS)], text])
    trade_file = tmp / "trade.csv"
    trade_file.write_text(buf.getvalue().replace("\x00", ""), encoding="utf-8")
    _ok(geotrack("trade", "import", *w, trade_file, "--reason", TITLE), "trade import")
    for j, (key, text) in enumerate(list(ARGV_PAYLOADS.items())[:3]):
        _ok(
            geotrack(
                "trade", "events", "add", *w, "--date", f"2025-0{j + 4}-15", "--label", text,
                "--source", text, "--note", text, "--url", URLS[j].replace("\x00", ""),
            ),
            f"event {key}",
        )  # fmt: skip
    _ok(
        geotrack("windows", "add", *w, "hostile", "10:20", "--description", TITLE),
        "windows add",
    )
    # the outputs
    _ok(geotrack("export", *w, "-o", tmp / "out", "--json"), "export")
    _ok(geotrack("trade", "chart", *w, "-o", tmp / "chart.svg"), "chart")
    _ok(geotrack("trade", "join", *w, "-o", tmp / "join.csv"), "join")
    FIGURES["hostile payloads"] = len(PAYLOADS) + len(URL_PAYLOADS)
    FIGURES["hostile text: crossings carrying payloads"] = len(expected)
    return {
        "tmp": tmp,
        "ws": ws_path,
        "expected": expected,
        "sources": sources,
        "urls": urls,
        "trade_texts": trade_texts,
    }


def _check_crossings(feats: list[dict], corpus: dict, *, text=lambda s: s) -> None:
    by_id = {f["id"]: f for f in feats}
    assert set(corpus["expected"]) <= set(by_id)
    for fid, want in corpus["expected"].items():
        p = by_id[fid]["properties"]
        assert p["name"] == text(want["name"]), fid
        reports = p["reports"]
        assert [r["notes"] for r in reports] == [text(n) for n in want["reports"]], fid
        got = [r["source_name"] for r in reports]
        assert got == [text(s) for s in corpus["sources"][fid]], fid
        got = [r["url"] for r in reports]
        assert got == [None if u is None else text(u) for u in corpus["urls"][fid]], fid
    FIGURES["hostile text: outputs checked"] += 1


def test_layer_and_json_keep_text_exactly(corpus):
    ws = Workspace.open(corpus["ws"])
    _check_crossings(ws.read_crossings(include_retired=True), corpus)
    doc = json.loads(_ok(geotrack("crossings", "list", "-w", corpus["ws"], "--json"), "list"))
    _check_crossings(doc["features"], corpus)
    assert json.loads(_ok(geotrack("validate", "-w", corpus["ws"], "--json"), "v"))["valid"]
    FIGURES["hostile text: fields carrying payloads"] = sum(
        1 + 3 * len(w["reports"]) for w in corpus["expected"].values()
    )


def test_geojson_export_keeps_text_exactly(corpus):
    path = corpus["tmp"] / "out" / "geotrack-geojson" / "crossings.geojson"
    doc = orjson.loads(path.read_bytes())
    assert "crs" not in doc
    _check_crossings(doc["features"], corpus)


def test_geopackage_keeps_text_nul_as_replacement(corpus):
    con = sqlite3.connect(corpus["tmp"] / "out" / "geotrack.gpkg")
    try:
        names = dict(con.execute("SELECT id, name FROM crossings"))
        reps: dict[str, list[tuple]] = {}
        for row in con.execute(
            "SELECT site_id, source_name, url, notes FROM reports ORDER BY site_id, report_id"
        ):
            reps.setdefault(row[0], []).append(row[1:])
    finally:
        con.close()
    feats = [
        {
            "id": fid,
            "properties": {
                "name": names[fid],
                "reports": [{"source_name": s, "url": u, "notes": n} for s, u, n in reps[fid]],
            },
        }
        for fid in names
    ]
    _check_crossings(feats, corpus, text=without_nul)


class _Balloon(html.parser.HTMLParser):
    """Tags, attributes and text of a KML balloon (HTML)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


BALLOON_TAGS = {"table", "tr", "th", "td", "h3", "h4", "ul", "li", "b", "a", "br"}


def _balloon(description: str) -> str:
    parser = _Balloon()
    parser.feed(description)
    parser.close()
    assert set(parser.tags) <= BALLOON_TAGS, set(parser.tags) - BALLOON_TAGS
    for name, value in parser.attrs:
        assert name in ("align", "href"), name
        if name == "href":
            assert re.match(r"^https?://", value or "", re.IGNORECASE), value
    return "".join(parser.text)


def _kml_checks(data: bytes, corpus: dict) -> None:
    root = SafeET.fromstring(data, forbid_dtd=True)  # well-formed, no DTD
    for style in root.iter(f"{KML}BalloonStyle"):
        # a placeholder other than $[description] is put into the balloon's HTML unescaped
        template = style.find(f"{KML}text").text
        assert re.findall(r"\$\[[^\]]*\]", template) == ["$[description]"], template
    placemarks = {pm.get("id"): pm for pm in root.iter(f"{KML}Placemark") if pm.get("id")}
    for fid, want in corpus["expected"].items():
        pm = placemarks[fid]
        values = {
            d.get("name"): d.find(f"{KML}value").text or ""
            for d in pm.iter(f"{KML}Data")
            if d.find(f"{KML}value") is not None
        }
        assert values["name"] == as_xml(want["name"]), fid
        assert pm.find(f"{KML}name").text == f"{fid} {as_xml(want['name'])}"
        shown = _balloon(pm.find(f"{KML}description").text)
        texts = [want["name"], *want["reports"], *corpus["sources"][fid]]
        texts += [u for u in corpus["urls"][fid] if u]
        for text in texts:
            assert as_xml(text) in shown, (fid, text[:40])


def test_kml_and_kmz_are_well_formed_with_text_intact(corpus):
    out = corpus["tmp"] / "out"
    kml = (out / "geotrack.kml").read_bytes()
    _kml_checks(kml, corpus)
    with zipfile.ZipFile(out / "geotrack.kmz") as z:
        assert z.namelist() == ["doc.kml"]
        _kml_checks(z.read("doc.kml"), corpus)
    FIGURES["hostile text: outputs checked"] += 1


NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _csv_cells(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows:
        for cell in row:
            # a negative number (an offset from the line) is a number to Excel, not a formula
            assert NUMBER.fullmatch(cell) or not cell.startswith(FORMULA_START), cell[:60]
    return rows


def test_csv_outputs_have_no_formula_cells(corpus):
    rows = _csv_cells(corpus["tmp"] / "out" / "geotrack-reports.csv")
    header, body = rows[0], rows[1:]
    col = {name: header.index(name) for name in ("id", "name", "source_name", "notes")}

    def plain(cell: str, original: str) -> str:
        return cell[1:] if without_nul(original).startswith(FORMULA_START) else cell

    seen = 0
    for fid, want in corpus["expected"].items():
        mine = [r for r in body if r[col["id"]] == fid]
        assert len(mine) == len(want["reports"])
        for r, notes, source in zip(mine, want["reports"], corpus["sources"][fid], strict=True):
            assert plain(r[col["name"]], want["name"]) == without_nul(want["name"])
            assert plain(r[col["notes"]], notes) == without_nul(notes)
            assert plain(r[col["source_name"]], source) == without_nul(source)
            seen += 1
    assert seen >= len(PAYLOADS)
    join = _csv_cells(corpus["tmp"] / "join.csv")
    assert len(join) > len(corpus["trade_texts"])
    FIGURES["hostile text: outputs checked"] += 2


def test_svg_chart_carries_no_script(corpus):
    root = SafeET.fromstring((corpus["tmp"] / "chart.svg").read_bytes(), forbid_dtd=True)
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        assert tag not in ("script", "foreignObject", "iframe", "object", "embed"), tag
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1]
            assert not local.lower().startswith("on"), (tag, name)
            if local == "href":
                assert not value.strip().lower().startswith(("javascript:", "data:")), value
    FIGURES["hostile text: outputs checked"] += 1


# -- the CLI's own terminal output --------------------------------------------------------------


def _human(*args) -> bytes:
    res = geotrack(*args)
    assert "Traceback" not in res.stderr.decode("utf-8", "replace"), res.stderr[-2000:]
    assert_terminal_clean(res.stdout, f"stdout of {args[:2]}")
    assert_terminal_clean(res.stderr, f"stderr of {args[:2]}")
    FIGURES["hostile text: terminal outputs checked"] += 1
    return res.stdout + res.stderr


def test_terminal_output_has_no_raw_control_characters(corpus):
    w = ("-w", corpus["ws"])
    shown = b""
    for fid in corpus["expected"]:  # in-process (the same click code path), for speed
        res = CliRunner().invoke(cli, ["crossings", "show", "-w", str(corpus["ws"]), fid])
        assert res.exit_code == 0, res.output
        assert_terminal_clean(res.stdout_bytes, f"stdout of show {fid}")
        assert_terminal_clean(res.stderr_bytes or b"", f"stderr of show {fid}")
        FIGURES["hostile text: terminal outputs checked"] += 1
        shown += res.stdout_bytes
    shown += _human("crossings", "show", *w, list(corpus["expected"])[-1])
    shown += _human("crossings", "list", *w, "--all")
    shown += _human("crossings", "history", *w)
    shown += _human("crossings", "history", *w, list(corpus["expected"])[-1])
    for args in (
        ("validate", *w),
        ("density", *w, "--simulations", "19", "--seed", "1"),
        ("stretch", *w),
        ("windows", "list", *w),
        ("trade", "list", *w),
        ("trade", "conflicts", *w),
        ("trade", "events", "list", *w),
        ("trade", "join", *w, "-o", corpus["tmp"] / "join2.csv"),
        ("export", *w, "-o", corpus["tmp"] / "out-human", "--format", "csv,kml"),
    ):
        shown += _human(*args)
    # the payloads are shown, made visible: not dropped
    assert b"\\u001b[31mRED" in shown and b"\\u202egnp.exe" in shown
    # errors that quote a hostile value (every terminal-hostile payload in one)
    text = "".join(PAYLOADS[k] for k in ("ansi_colour", "osc52_clipboard", "rtl_override"))
    text += PAYLOADS["controls"] + PAYLOADS["script_close"]
    first = next(iter(corpus["expected"]))
    for args in (
        ("crossings", "edit", *w, first, "--kind", text),
        ("crossings", "edit", *w, first, "--report", "R1", "--url", text),
        ("crossings", "show", *w, text),
        ("crossings", "retire", *w, text, "--reason", text),
        ("windows", "add", *w, text, "0:10"),
        ("density", *w, "--window", text),
        ("export", *w, "-o", corpus["tmp"] / "o3", "--name", text),
        ("export", *w, "-o", corpus["tmp"] / "o3", "--format", text),
        ("map", *w, "-o", corpus["tmp"] / "map.html", "--window", text, "--overwrite"),
        ("trade", "chart", *w, "-o", corpus["tmp"] / f"chart{text}.txt"),
        ("trade", "check-claim", *w, "--month", text, "--highest-since", "2019-10"),
    ):
        assert b"Error:" in _human(*args), args
    bad = corpus["tmp"] / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        cw = csv.writer(fh)
        cw.writerow(["lon", "lat", "kind", "source_name", "reliability"])
        for text in ARGV_PAYLOADS.values():
            cw.writerow(["127.27", "41.52", text, text, text])
    _human("crossings", "import", *w, bad)
    bad_trade = corpus["tmp"] / "bad-trade.csv"
    with bad_trade.open("w", encoding="utf-8", newline="") as fh:
        cw = csv.writer(fh)
        cw.writerow(["period", "total_trade", "currency", "unit", "source"])
        for text in ARGV_PAYLOADS.values():
            cw.writerow([text, text, text, text, text])
    _human("trade", "import", *w, bad_trade)


# -- the map page -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def map_page(corpus) -> Path:
    """The map of the hostile workspace; fails if any text was run as a (Jinja2) template."""
    sentinel = corpus["tmp"] / "template-ran"
    path = corpus["tmp"] / "map.html"
    res = geotrack(
        "map", "-w", corpus["ws"], "-o", path, "--title", TITLE,
        extra_env={"GEOTRACK_SENTINEL": str(sentinel)},
    )  # fmt: skip
    assert not sentinel.exists(), "a report text was run as a template: it ran a shell command"
    _ok(res, "map")
    return path


def test_report_text_is_never_rendered_as_a_template(corpus, map_page):
    page = map_page.read_text(encoding="utf-8")
    assert not (corpus["tmp"] / "template-ran").exists()
    # the Jinja2 payload reaches the page as data, escaped for the JSON script element
    assert "{{ 7*7 }} {% if true %}x{% endif %}{# c #}" in page


def test_map_html_holds_no_payload_markup(map_page):
    page = map_page.read_text(encoding="utf-8")
    for raw in (
        "<img src=x onerror",
        "<svg/onload",
        "</script><script>window.__gt_pwned",
        "</title></textarea>",
        "<img/src=x/onerror",
    ):
        assert raw not in page, raw
    FIGURES["hostile text: outputs checked"] += 1


POPUP_CHECK = """(i) => {
  window.geotrack.openPopup(i);
  const box = document.querySelector('.leaflet-popup-content .gt-pop');
  const tags = new Set(), attrs = new Set(), hrefs = [];
  box.querySelectorAll('*').forEach(el => {
    tags.add(el.tagName.toLowerCase());
    for (const a of el.attributes) attrs.add(a.name.toLowerCase());
    if (el.tagName === 'A') hrefs.push(el.getAttribute('href'));
  });
  const name = box.querySelector('h3').textContent;
  const notes = Array.from(box.querySelectorAll('.gt-note-text')).map(e => e.textContent);
  return {id: window.geotrack.data.s[window.geotrack.data.c.id[i]], name, notes,
          tags: Array.from(tags), attrs: Array.from(attrs), hrefs, text: box.textContent};
}"""
POPUP_TAGS = {"div", "h3", "h4", "span", "p", "table", "tbody", "tr", "th", "td", "b", "a"}
POPUP_TAGS |= {"svg", "circle", "rect", "polygon", "path"}
POPUP_ATTRS = {"class", "href", "target", "rel", "width", "height", "viewbox", "fill", "stroke"}
POPUP_ATTRS |= {"stroke-width", "stroke-dasharray", "cx", "cy", "r", "x", "y", "points", "d"}
INJECTED = (
    "[onerror],[onload],[onclick],[onmouseover],[onfocus],img[src='x'],iframe,object,embed,"
    "script[src],a[href^='javascript'],a[href^='data'],a[href^='vbscript']"
)


@pytest.mark.browser
def test_map_in_chromium_runs_no_payload_and_shows_text_literally(corpus, map_page):
    from _browser import chromium_available, open_page

    if not chromium_available():
        pytest.skip("needs /usr/bin/chromium and playwright")
    page_text = map_page.read_text(encoding="utf-8")
    with open_page(map_page) as run:
        run.wait_ready()
        assert run.evaluate("document.scripts.length") == page_text.count("<script")
        assert run.page.title() == " ".join(TITLE.split())
        assert run.evaluate("document.getElementById('gt-title').textContent") == TITLE
        n = run.evaluate("window.geotrack.data.c.id.length")
        assert n == len(corpus["expected"])
        for i in range(n):
            got = run.evaluate(POPUP_CHECK, i)
            want = corpus["expected"][got["id"]]
            assert got["name"] == f"{got['id']} · {want['name']}", got["id"]
            assert got["notes"] == want["reports"], got["id"]
            for source in corpus["sources"][got["id"]]:
                assert source in got["text"]
            assert set(got["tags"]) <= POPUP_TAGS, got["tags"]
            assert set(got["attrs"]) <= POPUP_ATTRS, got["attrs"]
            assert all(re.match(r"^https?://", h, re.IGNORECASE) for h in got["hrefs"])
            FIGURES["hostile text: popups checked in Chromium"] += 1
        # the trade sources are listed (as text) among the attributions
        sources = run.evaluate("document.getElementById('gt-sources').textContent")
        assert corpus["trade_texts"][NAMES.index("script_close")] in sources
        assert run.evaluate("document.querySelectorAll('#gt-sources li *').length") == 0
        # hover the chart: its tooltips show trade sources and notes
        marks = run.page.locator("#gt-chart svg path, #gt-chart svg circle")
        for k in range(0, min(marks.count(), 240), 6):
            try:
                marks.nth(k).hover(timeout=500, force=True)
            except Exception:
                continue
        assert run.evaluate(f"document.querySelectorAll({INJECTED!r}).length") == 0
        assert run.evaluate("typeof window.__gt_pwned") == "undefined"
        assert run.dialogs == []
        assert run.page_errors == []
        assert run.console_errors == []
        assert run.external_requests == []
    FIGURES["hostile text: outputs checked"] += 1
