"""Hostile files on import (``crossings import`` and ``trade import``), each in a real process.

Every file is either imported correctly or refused with a clear error (exit 1, an ``Error:``
line, no traceback); a refused file leaves the workspace byte for byte as it was, and the
process's peak memory stays under :data:`~hardening._run.MAX_RSS_MB`.
"""

from __future__ import annotations

import codecs
import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest

from geotrack.workspace import Workspace, init_workspace
from hardening._run import FIGURES, MAX_RSS_MB, Measured, assert_clear_error, measured, snapshot

SECRET = "GEOTRACK-SECRET-7f3a9c"  # planted in a local file that an external entity points at
KML_NS = "http://www.opengis.net/kml/2.2"
PLACEMARK = (
    "<Placemark><name>{name}</name><description>ok</description><ExtendedData>"
    '<Data name="kind"><value>ford</value></Data><Data name="source_name"><value>Test</value>'
    "</Data></ExtendedData><Point><coordinates>127.2696,41.5195</coordinates></Point></Placemark>"
)


def kml(body: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}<kml xmlns="{KML_NS}"><Document>'
        f"{body}</Document></kml>"
    ).encode()


def kmz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def streamed_kmz(path: Path, head: bytes, chunk: bytes, repeat: int, tail: bytes) -> None:
    """A KMZ whose doc.kml is *head* + *chunk* x *repeat* + *tail*, deflated as it is written."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("doc.kml", "w", force_zip64=True) as fh,
    ):
        fh.write(head)
        for _ in range(repeat):
            fh.write(chunk)
        fh.write(tail)


def forged_size(data: bytes, member: str, real: int, claimed: int) -> bytes:
    """The archive with *member*'s uncompressed size rewritten (local and central headers)."""
    real_b, claimed_b = real.to_bytes(4, "little"), claimed.to_bytes(4, "little")
    assert data.count(real_b) == 2, "size must appear once in each header"
    return data.replace(real_b, claimed_b)


def nested_geojson(depth: int) -> bytes:
    deep = "[" * depth + "]" * depth
    return (
        '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point",'
        '"coordinates":[127.2696,41.5195]},"properties":{"kind":"ford","source_name":"T",'
        f'"notes":{deep}}}}}]}}'
    ).encode()


@dataclass
class Case:
    """One hostile file: how to make it, the options to pass, what must happen."""

    name: str
    filename: str
    make: Callable[[Path], None]
    args: tuple[str, ...] = ()
    message: str | None = None  # refused, stderr naming this; None: imported
    expect: Callable[[list[dict]], None] | None = None
    stdin: str | None = None  # 'file': redirected from the file; 'pipe': through a pipe
    extra: dict = field(default_factory=dict)


def _write(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def _sparse(size: int) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        subprocess.run(["truncate", "-s", str(size), str(p)], check=True)
        assert p.stat().st_blocks * 512 < 1 << 20  # sparse: no gigabyte written to disk

    return make


def _zip_bomb(p: Path) -> None:
    # 1 GiB of spaces inside <kml>: about 1 MB of deflate; the header says 1 GiB
    streamed_kmz(p, f'<kml xmlns="{KML_NS}">'.encode(), b" " * (1 << 20), 1024, b"</kml>")


def _element_bomb(p: Path) -> None:
    # 24 MiB of empty elements (about 25 KB zipped): a tree of them would need about 600 MB
    streamed_kmz(
        p,
        f'<kml xmlns="{KML_NS}"><Document>'.encode(),
        b"<a/>" * (1 << 18),
        24,
        b"</Document></kml>",
    )


def _placemark_bomb(p: Path) -> None:
    # one Placemark holding 12 million elements
    streamed_kmz(
        p,
        f'<kml xmlns="{KML_NS}"><Placemark><Point><coordinates>127.27,41.52</coordinates>'
        "</Point><ExtendedData>".encode(),
        b"<a/>" * (1 << 18),
        48,
        b"</ExtendedData></Placemark></kml>",
    )


def _forged_kmz(p: Path) -> None:
    doc = kml(PLACEMARK.format(name="x") + "<!--" + " " * (8 << 20) + "-->")
    p.write_bytes(forged_size(kmz({"doc.kml": doc}), "doc.kml", len(doc), 2000))


def _encrypted_kmz(p: Path) -> None:
    data = bytearray(kmz({"doc.kml": kml(PLACEMARK.format(name="x"))}))
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general purpose flag bit 0
        i = data.find(sig)
        data[i + off] |= 1
    p.write_bytes(bytes(data))


BILLION_LAUGHS = (
    '<!DOCTYPE kml [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
QUADRATIC = '<!DOCTYPE kml [<!ENTITY a "' + "x" * 50_000 + '">]>'


def _xxe(kind: str) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        secret = p.parent / "secret.txt"
        secret.write_text(SECRET)
        uri = secret.as_uri()
        prolog = {
            "file": f'<!DOCTYPE kml [<!ENTITY xxe SYSTEM "{uri}">]>',
            "parameter": f'<!DOCTYPE kml [<!ENTITY % p SYSTEM "{uri}"> %p;]>',
            "url": '<!DOCTYPE kml [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>',
            "laughs": BILLION_LAUGHS,
            "quadratic": QUADRATIC,
        }[kind]
        name = {"laughs": "&lol9;", "quadratic": "&a;" * 50_000}.get(kind, "&xxe;")
        p.write_bytes(kml(PLACEMARK.format(name=name), prolog))

    return make


def _csv(text: str, encoding: str, *, bom: bytes = b"") -> Callable[[Path], None]:
    return lambda p: p.write_bytes(bom + text.encode(encoding))


CSV_HEAD = "lon,lat,kind,source_name,notes"
CSV_ROWS = [
    "127.2696,41.5195,ford,Yonhap 연합뉴스,압록강 도강 지점",
    "128.1778,41.4017,pontoon,新华社,鸭绿江 浮桥",
    "127.9000,41.4600,ferry_boat,Daily NK,Ferry near the bridge (é)",
]


def _equal(got: list, expected: list) -> None:
    assert got == expected


def _notes(expected: list[str]) -> Callable[[list[dict]], None]:
    return lambda feats: _equal([f["properties"]["reports"][0]["notes"] for f in feats], expected)


KOREAN = _notes(["압록강 도강 지점", "鸭绿江 浮桥", "Ferry near the bridge (é)"])

CROSSING_CASES = [
    Case("kml_xxe_local_file", "xxe.kml", _xxe("file"), message="DTD or entities"),
    Case("kml_xxe_parameter_entity", "xxe2.kml", _xxe("parameter"), message="DTD or entities"),
    Case("kml_xxe_url", "xxe3.kml", _xxe("url"), message="DTD or entities"),
    Case("kml_billion_laughs", "lol.kml", _xxe("laughs"), message="DTD or entities"),
    Case("kml_quadratic_blowup", "quad.kml", _xxe("quadratic"), message="DTD or entities"),
    Case("kmz_zip_bomb_1gib", "bomb.kmz", _zip_bomb, message="over the limit"),
    Case("kmz_size_that_lies", "forged.kmz", _forged_kmz, message="cannot be extracted"),
    Case("kmz_element_bomb", "elements.kmz", _element_bomb, message="XML elements"),
    Case("kmz_placemark_bomb", "placemark.kmz", _placemark_bomb, message="more than 10000"),
    Case("kmz_encrypted", "enc.kmz", _encrypted_kmz, message="cannot be extracted"),
    Case(
        "kmz_parent_path",
        "up.kmz",
        _write(kmz({"../../evil.kml": kml(PLACEMARK.format(name="x"))})),
        message="unsafe path",
    ),
    Case(
        "kmz_windows_parent_path",
        "up2.kmz",
        _write(kmz({"..\\..\\evil.kml": kml(PLACEMARK.format(name="x"))})),
        message="unsafe path",
    ),
    Case(
        "kmz_absolute_path",
        "abs.kmz",
        _write(kmz({"/tmp/evil.kml": kml(PLACEMARK.format(name="x"))})),
        message="unsafe path",
    ),
    Case(
        "kmz_truncated",
        "cut.kmz",
        _write(kmz({"doc.kml": kml(PLACEMARK.format(name="x") * 50)})[:300]),
        message="not a KMZ",
    ),
    Case(
        "kml_unknown_encoding",
        "enc.kml",
        _write(kml("").replace(b"UTF-8", b"x-no-such-codec")),
        message="unknown encoding",
    ),
    Case(
        "kml_latin1_declared",
        "latin1.kml",
        _write(
            kml(PLACEMARK.format(name="Café"))
            .replace(b"UTF-8", b"ISO-8859-1")
            .replace("Café".encode(), "Café".encode("latin-1"))
        ),
        expect=lambda feats: _equal([f["properties"]["name"] for f in feats], ["Café"]),
    ),
    Case("geojson_nested_5000", "deep.geojson", _write(nested_geojson(5000)), message="JSON"),
    Case("geojson_nested_100", "deep2.geojson", _write(nested_geojson(100)), message="nested"),
    Case("geojson_1gib_sparse", "huge.geojson", _sparse(1 << 30), message="over the 256.0 MiB"),
    Case(
        "geojson_1gib_sparse_stdin",
        "huge2.geojson",
        _sparse(1 << 30),
        message="over the 256.0 MiB",
        stdin="file",
    ),
    Case(
        "geojson_1gib_through_a_pipe",
        "huge3.geojson",
        _sparse(1 << 30),
        message="larger than 256.0 MiB",
        stdin="pipe",
    ),
    Case(
        "csv_utf16_bom",
        "u16.csv",
        _csv("\n".join([CSV_HEAD, *CSV_ROWS]), "utf-16-le", bom=codecs.BOM_UTF16_LE),
        expect=KOREAN,
    ),
    Case(
        "csv_utf16_be_bom",
        "u16be.csv",
        _csv("\n".join([CSV_HEAD, *CSV_ROWS]), "utf-16-be", bom=codecs.BOM_UTF16_BE),
        expect=KOREAN,
    ),
    Case(
        "csv_utf16_no_bom",
        "u16n.csv",
        _csv("\n".join([CSV_HEAD, *CSV_ROWS]), "utf-16-le"),
        message="--encoding",
    ),
    Case(
        "csv_latin1_unnamed",
        "l1.csv",
        _csv(f"{CSV_HEAD}\n{CSV_ROWS[2]}\n", "latin-1"),
        message="--encoding latin-1",
    ),
    Case(
        "csv_latin1_named",
        "l1b.csv",
        _csv(f"{CSV_HEAD}\n{CSV_ROWS[2]}\n", "latin-1"),
        args=("--encoding", "latin-1"),
        expect=_notes(["Ferry near the bridge (é)"]),
    ),
    Case(
        "csv_utf8_bom_crlf",
        "bom.csv",
        _csv("\r\n".join([CSV_HEAD, *CSV_ROWS]) + "\r\n", "utf-8", bom=codecs.BOM_UTF8),
        expect=KOREAN,
    ),
    Case(
        "csv_mixed_line_endings",
        "mixed.csv",
        _csv(f"{CSV_HEAD}\r\n{CSV_ROWS[0]}\n{CSV_ROWS[1]}\r{CSV_ROWS[2]}", "utf-8"),
        expect=KOREAN,
    ),
    Case(
        "csv_cr_only",
        "cr.csv",
        _csv("\r".join([CSV_HEAD, *CSV_ROWS]) + "\r", "utf-8"),
        expect=KOREAN,
    ),
    Case(
        "csv_field_200k",
        "field.csv",
        _csv(f'{CSV_HEAD}\n127.2696,41.5195,ford,T,"{"x" * 200_000}"\n', "utf-8"),
        message="field larger than field limit",
    ),
    Case("binary_as_csv", "bin.csv", _write(bytes(range(256)) * 64), message="not UTF-8"),
]


def _trade_csv(text: str, encoding: str, *, bom: bytes = b"") -> Callable[[Path], None]:
    return lambda p: p.write_bytes(bom + text.encode(encoding))


TRADE_TEXT = (
    "period,total_trade,currency,unit,source,note\n"
    "2031-01,101.5,USD,million,Synthetic 연합뉴스,합성 데이터 (é)\n"
    "2031-02,102,USD,million,Synthetic 新华社,合成数据\n"
)


def _xlsx(p: Path, *, sheet_xml: Callable[[bytes], bytes] | None = None, bomb: int = 0) -> None:
    wb = openpyxl.Workbook()
    sh = wb.active
    sh.append(["period", "total_trade", "currency", "unit", "source"])
    sh.append(["2031-03", 103, "USD", "million", "Synthetic workbook"])
    plain = p.with_suffix(".plain.xlsx")
    wb.save(plain)
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "xl/worksheets/sheet1.xml" and sheet_xml:
                data = sheet_xml(data)
            if bomb and name == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            if bomb and name == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    b"</Relationships>",
                )
            zout.writestr(name, data)
        if bomb:
            with zout.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
                fh.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
                fh.write(b"<si><t>")
                for _ in range(bomb):
                    fh.write(b"a" * (1 << 20))
                fh.write(b"</t></si></sst>")
    plain.unlink()


def _trade_expect(sources: list[str]) -> Callable[[Path], None]:
    def check(ws: Path) -> None:
        from geotrack.trade import load_trade

        rows = [r for r in load_trade(ws) if r.period.startswith("2031")]
        assert [r.source for r in rows] == sources

    return check


TRADE_CASES = [
    Case("trade_1gib_sparse", "huge.csv", _sparse(1 << 30), message="byte limit"),
    Case("trade_xlsx_zip_bomb", "bomb.xlsx", lambda p: _xlsx(p, bomb=400), message="inflates"),
    Case(
        "trade_xlsx_xxe",
        "xxe.xlsx",
        lambda p: _xlsx(
            p,
            sheet_xml=lambda d: d.replace(
                b"<worksheet",
                b'<!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]><worksheet',
                1,
            ),
        ),
        message="not a readable .xlsx",
    ),
    Case(
        "trade_xlsx_truncated_sheet",
        "cut.xlsx",
        lambda p: _xlsx(p, sheet_xml=lambda d: d[: len(d) // 2]),
        message="not a readable .xlsx",
    ),
    Case("trade_not_a_zip", "fake.xlsx", _write(b"PK\x03\x04 not really"), message="xlsx"),
    Case(
        "trade_utf16_bom_default",
        "u16.csv",
        _trade_csv(TRADE_TEXT, "utf-16-le", bom=codecs.BOM_UTF16_LE),
        message="not utf-8-sig text",
    ),
    Case(
        "trade_utf16_named",
        "u16b.csv",
        _trade_csv(TRADE_TEXT, "utf-16"),
        args=("--encoding", "utf-16"),
        extra={"trade_expect": ["Synthetic 연합뉴스", "Synthetic 新华社"]},
    ),
    Case(
        "trade_latin1_unnamed",
        "l1.csv",
        _trade_csv(
            TRADE_TEXT.replace("연합뉴스", "é")
            .replace("新华社", "è")
            .replace("합성 데이터", "x")
            .replace("合成数据", "y"),
            "latin-1",
        ),
        message="--encoding",
    ),
    Case(
        "trade_latin1_named",
        "l1b.csv",
        _trade_csv(
            TRADE_TEXT.replace("연합뉴스", "é")
            .replace("新华社", "è")
            .replace("합성 데이터", "x")
            .replace("合成数据", "y"),
            "latin-1",
        ),
        args=("--encoding", "latin-1"),
        extra={"trade_expect": ["Synthetic é", "Synthetic è"]},
    ),
    Case(
        "trade_bom_crlf",
        "bom.csv",
        _trade_csv(TRADE_TEXT.replace("\n", "\r\n"), "utf-8", bom=codecs.BOM_UTF8),
        extra={"trade_expect": ["Synthetic 연합뉴스", "Synthetic 新华社"]},
    ),
    Case(
        "trade_mixed_line_endings",
        "mixed.csv",
        _trade_csv(TRADE_TEXT.replace("\n", "\r", 1), "utf-8"),
        extra={"trade_expect": ["Synthetic 연합뉴스", "Synthetic 新华社"]},
    ),
    Case(
        "trade_nul_bytes",
        "nul.csv",
        _trade_csv(TRADE_TEXT.replace("합성", "\x00"), "utf-8"),
        message="binary file",
    ),
]


@pytest.fixture(scope="module")
def base_ws(tmp_path_factory) -> Path:
    """A workspace with one crossing, copied for each case."""
    path = tmp_path_factory.mktemp("hostile-files") / "ws"
    ws = init_workspace(path)
    from geotrack.records import add_crossing

    add_crossing(ws, {"lon": 127.2696, "lat": 41.5195, "kind": "ford", "source_name": "Seed"})
    return path


def _copy(base: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    return ws


def _check(res: Measured, case: Case, ws: Path, before: dict[str, bytes]) -> None:
    FIGURES["hostile files tried"] += 1
    assert res.peak_mb < MAX_RSS_MB, f"{case.name}: peak {res.peak_mb:.0f} MB"
    FIGURES["hostile files: largest peak RSS (MB)"] = max(
        FIGURES["hostile files: largest peak RSS (MB)"], round(res.peak_mb)
    )
    assert SECRET.encode() not in res.stdout + res.stderr
    if case.message is not None:
        assert_clear_error(res, case.name)
        assert case.message in res.stderr.decode(), res.stderr.decode()
        assert snapshot(ws) == before, f"{case.name}: the workspace changed"
        FIGURES["hostile files refused"] += 1
    else:
        err = res.stderr.decode()
        assert res.returncode == 0 and "Traceback" not in err, err
        FIGURES["hostile files imported correctly"] += 1
    assert not any(SECRET.encode() in data for data in snapshot(ws).values())


@pytest.mark.slow
@pytest.mark.parametrize("case", CROSSING_CASES, ids=lambda c: c.name)
def test_hostile_crossing_files(case, base_ws, tmp_path):
    ws = _copy(base_ws, tmp_path)
    src = tmp_path / case.filename
    case.make(src)
    before = snapshot(ws)
    if case.stdin:
        res = measured("crossings", "import", "-w", ws, "-", stdin=src, pipe=case.stdin == "pipe")
    else:
        res = measured("crossings", "import", "-w", ws, src, "--force-far", *case.args)
    _check(res, case, ws, before)
    if case.expect is not None:
        feats = Workspace.open(ws).read_crossings()[1:]
        assert feats, "nothing was imported"
        case.expect(feats)
        assert json.loads(measured("validate", "-w", ws, "--json").stdout)["valid"]


@pytest.mark.slow
@pytest.mark.parametrize("case", TRADE_CASES, ids=lambda c: c.name)
def test_hostile_trade_files(case, base_ws, tmp_path):
    ws = _copy(base_ws, tmp_path)
    src = tmp_path / case.filename
    case.make(src)
    before = snapshot(ws)
    res = measured("trade", "import", "-w", ws, src, *case.args)
    _check(res, case, ws, before)
    if "trade_expect" in case.extra:
        _trade_expect(case.extra["trade_expect"])(ws)
