"""The folder store's three promises (issue 13), tried as a user would through the records API.

1. undo: your own latest change, a compensating entry, ids never reused, ids within the pattern;
2. the demo's "all synthetic?" check and its removal under one lock;
3. a damaged history is reported by line number, never dropped or merged; a layer rebuilt
   from its history says so (the trade history too).
"""

from __future__ import annotations

import logging
from decimal import Decimal

import orjson
import pytest

from geotrack.demo import create_demo
from geotrack.errors import DataError, StorageError, ValidationError
from geotrack.records import add_crossing, edit_crossing, import_crossings, undo, validate_workspace
from geotrack.store import LayerStore
from geotrack.trade import TradeRow, load_trade, write_trade
from geotrack.trade.storage import HISTORY_FILE


def test_undo_by_one_user_leaves_another_users_add_alone(ws, record):
    fid = add_crossing(ws, record, user="ana")
    edit_crossing(ws, fid, {"status": "destroyed"}, user="ana")
    other = add_crossing(ws, record, user="ben")
    e = undo(ws, user="ana")
    assert e.undoes == 2
    by_id = {f["id"]: f for f in ws.read_crossings()}
    assert set(by_id) == {fid, other} and by_id[fid]["properties"]["status"] == "active"
    # ben's add undone by ben; the next add does not reuse its id
    undo(ws, user="ben")
    assert add_crossing(ws, record, user="ana") == "YLU-0003"
    assert [e.op for e in ws.crossings.history("YLU-0002")] == ["add", "undo"]
    assert validate_workspace(ws) == []


def test_ids_that_would_overflow_the_pattern_are_refused(ws, record):
    with pytest.raises(ValidationError, match=r"YLU-999999999.*too close to the last id"):
        import_crossings(ws, [{**record, "id": "YLU-999999999"}])
    assert ws.read_crossings() == []
    import_crossings(ws, [{**record, "id": "YLU-0500"}])
    assert add_crossing(ws, record) == "YLU-0501"
    assert validate_workspace(ws) == []


def test_demo_never_deletes_a_real_crossing_added_during_the_check(tmp_path, record, monkeypatch):
    """A real crossing lands just before demo --overwrite takes its lock: it is never deleted.

    The old demo checked "all synthetic?" before its locked removal, so a crossing added
    between the two was deleted; the check now runs inside the removal's transaction.
    """
    demo = tmp_path / "demo"
    ws = create_demo(demo, n=3)
    original = LayerStore.transaction
    real = []

    def racing(self, *, op, **kw):
        if op == "demo-reset" and not real:  # another user's add wins the race for the lock
            real.append(add_crossing(ws, record, user="ben"))
        return original(self, op=op, **kw)

    monkeypatch.setattr(LayerStore, "transaction", racing)
    with pytest.raises(StorageError, match=r"1 crossing\(s\) that are not synthetic"):
        create_demo(demo, n=3, overwrite=True)
    assert real[0] in {f["id"] for f in ws.read_crossings()}
    assert len(ws.read_crossings()) == 4


def test_damaged_history_lines_are_reported_by_number(ws, record):
    add_crossing(ws, record)
    add_crossing(ws, record)
    path = ws.path / "history.jsonl"
    first, second = path.read_bytes().splitlines(keepends=True)
    shape = orjson.dumps({"seq": 1, "changes": "not a list"})
    path.write_bytes(shape.ljust(len(first) - 1) + b"\n" + second)
    problems = validate_workspace(ws)
    assert any(p.value == "line 1" and "history.jsonl line 1" in p.message for p in problems)
    with pytest.raises(DataError, match=r"history\.jsonl line 1"):
        undo(ws)
    assert path.read_bytes().startswith(shape)


def test_trade_history_without_final_newline_keeps_its_last_entry(ws):
    write_trade(ws.path, [*load_trade(ws.path), TradeRow("2025-12", Decimal("1"), source="X")])
    hist = ws.path / HISTORY_FILE
    before = hist.read_bytes()
    hist.write_bytes(before.rstrip(b"\n"))
    write_trade(ws.path, [*load_trade(ws.path), TradeRow("2026-01", Decimal("2"), source="Y")])
    lines = hist.read_bytes().splitlines()
    assert lines[: len(before.splitlines())] == before.splitlines()  # nothing deleted
    assert all(orjson.loads(line) for line in lines)
    assert validate_workspace(ws) == []
    hist.write_bytes(hist.read_bytes() + b'{"seq": ')
    (problem,) = validate_workspace(ws)
    assert problem.field == HISTORY_FILE and problem.value == f"line {len(lines) + 1}"


@pytest.mark.parametrize("damage", ["missing", "empty"])
def test_a_layer_rebuilt_from_its_history_says_so(ws, record, caplog, damage):
    add_crossing(ws, record)
    layer = ws.path / "crossings.geojson"
    if damage == "missing":
        layer.unlink()
    else:
        layer.write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        assert validate_workspace(ws) == []
    assert "rebuilt it from history.jsonl (1 entries, 1 features)" in caplog.text
    assert [f["id"] for f in ws.read_crossings()] == ["YLU-0001"]
