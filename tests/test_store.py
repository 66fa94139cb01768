"""One layer on disk: lock, atomic write, append-only history (the WAL), undo."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import orjson
import pytest

import geotrack.store as store_mod
from geotrack.errors import DataError, LockError, NotFoundError, StorageError
from geotrack.geojson import parse_features
from geotrack.schema import order_crossing
from geotrack.store import LayerStore, atomic_write, current_user, utc_now


def feat(fid: str, lon: float = 127.2696, **props) -> dict:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [lon, 41.5195]},
        "properties": {"id": fid, "kind": "ford", **props},
    }


@pytest.fixture
def store(tmp_path: Path) -> LayerStore:
    s = LayerStore(tmp_path, "crossings", order=order_crossing, lock_timeout=5)
    s.ensure_exists()
    return s


def add(store: LayerStore, *features: dict, op: str = "add", reason: str | None = None) -> None:
    with store.transaction(op=op, reason=reason) as tx:
        for f in features:
            tx.put(f)


def snapshot(store: LayerStore) -> tuple[bytes, bytes]:
    hist = store.history_path.read_bytes() if store.history_path.exists() else b""
    return store.path.read_bytes(), hist


def current(store: LayerStore) -> dict[str, dict]:
    return {f["id"]: f for f in store.read()}


# -- the layer file --------------------------------------------------------------


def test_empty_layer_is_a_valid_feature_collection(store):
    doc = orjson.loads(store.path.read_bytes())
    assert doc["type"] == "FeatureCollection" and doc["features"] == []
    assert doc["name"] == "crossings" and "crs" not in doc
    assert store.read() == [] and list(store.history()) == []


def test_layer_is_deterministic_sorted_rounded_and_idempotent(store, tmp_path):
    add(store, feat("YLU-0003", 127.123456789, notes="c"), feat("YLU-0001", 127.5, notes="a"))
    add(store, feat("YLU-0002", 127.00000001))
    data = store.path.read_bytes()
    lines = data.split(b"\n")
    assert [orjson.loads(line.rstrip(b","))["id"] for line in lines[1:4]] == [
        "YLU-0001",
        "YLU-0002",
        "YLU-0003",
    ]
    feats = parse_features(data)
    assert feats[1]["geometry"]["coordinates"] == [127.0, 41.5195]
    assert feats[2]["geometry"]["coordinates"] == [127.1234568, 41.5195]
    for f in feats:
        assert list(f) == ["type", "id", "geometry", "properties"]
        assert list(f["properties"])[:2] == ["id", "kind"]
    # the same content written by another store gives the same bytes
    other = LayerStore(tmp_path / "copy", "crossings", order=order_crossing)
    other.folder.mkdir()
    add(other, *reversed(feats))
    assert other.path.read_bytes().split(b"\n")[1:] == data.split(b"\n")[1:]
    # a transaction that changes nothing writes nothing
    before = snapshot(store)
    with store.transaction(op="edit") as tx:
        tx.put(tx.get("YLU-0002"))
    assert snapshot(store) == before
    # recovering a healthy layer rewrites nothing either
    assert store.recover().rolled_forward == 0
    assert snapshot(store) == before


def test_files_keep_a_shareable_mode(store):
    add(store, feat("YLU-0001"))
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode & 0o044 == 0o044, oct(mode)  # readable by group and others, not just 0600
    os.chmod(store.path, 0o664)
    add(store, feat("YLU-0002"))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o664


def test_hostile_text_round_trips_byte_exact(store):
    hostile = "</script>${x}`\\'\"\u202e\x00\x1b[2J\n\r\u2028 🚣 한국어 <!--"
    add(store, feat("YLU-0001", notes=hostile, name=hostile))
    assert store.path.read_bytes().count(b"\n") == 3  # still one feature per line
    (f,) = store.read()
    assert f["properties"]["notes"] == hostile and f["properties"]["name"] == hostile
    (entry,) = store.history()
    assert entry.changes[0].after["properties"]["notes"] == hostile


# -- history -------------------------------------------------------------------


def test_history_records_user_time_reason_before_after(store, monkeypatch):
    monkeypatch.setenv("GEOTRACK_USER", "analyst-7")
    assert current_user() == "analyst-7"
    add(store, feat("YLU-0001"), reason="first report")
    with store.transaction(op="edit", reason="imagery 2026-01-03") as tx:
        f = tx.get("YLU-0001")
        tx.put({**f, "properties": {**f["properties"], "kind": "pontoon"}})
    first, second = store.history()
    assert (first.seq, first.op, first.user, first.reason) == (
        1,
        "add",
        "analyst-7",
        "first report",
    )
    assert first.changes[0].before is None
    assert first.changes[0].after["properties"]["kind"] == "ford"
    assert (second.seq, second.op, second.reason) == (2, "edit", "imagery 2026-01-03")
    assert second.changes[0].before["properties"]["kind"] == "ford"
    assert second.changes[0].after["properties"]["kind"] == "pontoon"
    assert first.time.endswith("Z") and first.time <= second.time <= utc_now()
    assert [e.seq for e in store.history("YLU-0001")] == [1, 2]
    assert list(store.history("YLU-9999")) == []
    # the file is JSON lines, one entry per line
    lines = store.history_path.read_bytes().splitlines()
    assert [orjson.loads(line)["seq"] for line in lines] == [1, 2]
    assert store.replay() == current(store)


def test_retire_keeps_a_tombstone(store):
    add(store, feat("YLU-0001"))
    with store.transaction(op="retire", reason="duplicate of YLU-0002") as tx:
        f = tx.get("YLU-0001")
        tx.put({**f, "properties": {**f["properties"], "retired": True}})
    (f,) = store.read()
    assert f["properties"]["retired"] is True
    assert [e.op for e in store.history("YLU-0001")] == ["add", "retire"]


def test_unknown_id_is_not_found(store):
    with (
        pytest.raises(NotFoundError, match="id='YLU-0042': no such crossing"),
        store.transaction(op="edit") as tx,
    ):
        tx.get("YLU-0042")


def test_failed_block_writes_nothing(store):
    add(store, feat("YLU-0001"))
    before = snapshot(store)
    with pytest.raises(RuntimeError), store.transaction(op="add") as tx:
        tx.put(feat("YLU-0002"))
        raise RuntimeError("validation failed half way")
    assert snapshot(store) == before


# -- undo ----------------------------------------------------------------------


def test_undo_of_add_edit_and_remove(store):
    add(store, feat("YLU-0001"))
    add(store, feat("YLU-0002"))
    with store.transaction(op="edit") as tx:
        tx.put(feat("YLU-0001", notes="edited"))
    e = store.undo()
    assert (e.op, e.undoes) == ("undo", 3)
    assert e.reason == f"undo of operation 3 (edit by {current_user()})"
    assert current(store)["YLU-0001"]["properties"].get("notes") is None
    e = store.undo()
    assert e.undoes == 2 and set(current(store)) == {"YLU-0001"}
    e = store.undo()
    assert e.undoes == 1 and current(store) == {}
    with pytest.raises(NotFoundError, match="no change left to undo"):
        store.undo()
    assert [h.op for h in store.history()] == ["add", "add", "edit", "undo", "undo", "undo"]
    assert store.replay() == {}


def test_undo_refuses_when_the_layer_was_changed_outside_geotrack(store):
    add(store, feat("YLU-0001"))
    add(store, feat("YLU-0002"))
    # the layer edited by hand after operation 2 (same length, so the history still lines up)
    store.path.write_bytes(
        store.path.read_bytes().replace(b'"kind":"ford"}}\n]', b'"kind":"pont"}}\n]')
    )
    before = snapshot(store)
    with pytest.raises(DataError, match="YLU-0002 outside geotrack"):
        store.undo()
    assert snapshot(store) == before


def test_history_rewritten_outside_geotrack_is_refused_not_truncated(store):
    """A history that no longer lines up (hand edit, git merge) is never cut."""
    add(store, feat("YLU-0001"))
    add(store, feat("YLU-0002"))
    entries = store.history_path.read_bytes().splitlines(keepends=True)
    d = orjson.loads(entries[0])
    d["reason"] = "a longer reason written later"
    store.history_path.write_bytes(orjson.dumps(d) + b"\n" + entries[1])
    before = snapshot(store)
    for action in (store.recover, store.undo, lambda: add(store, feat("YLU-0003"))):
        with pytest.raises(
            DataError, match=r"does not continue crossings\.geojson.*Nothing was changed"
        ):
            action()
        assert snapshot(store) == before
    # a complete but unreadable line after the applied part is refused too
    store.path.write_bytes(before[0])
    store.history_path.write_bytes(b"".join(entries))
    with store.history_path.open("ab") as fh:
        fh.write(b"not json\n" + entries[1])
    kept = snapshot(store)
    with pytest.raises(DataError, match="entry 1 after the last applied one"):
        store.recover()
    assert snapshot(store) == kept


# -- atomic writes and failures ---------------------------------------------------


def test_atomic_write_replaces_and_cleans_up(tmp_path):
    p = tmp_path / "a.geojson"
    atomic_write(p, b"one")
    atomic_write(p, b"two")
    assert p.read_bytes() == b"two"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.geojson"]


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_failed_rename_leaves_layer_and_history_unchanged(store, monkeypatch):
    add(store, feat("YLU-0001"))
    before = snapshot(store)
    monkeypatch.setattr(store_mod.os, "replace", _enospc)
    with pytest.raises(StorageError) as err:
        add(store, feat("YLU-0002"))
    assert "No space left on device" in str(err.value) and "previous file is unchanged" in str(
        err.value
    )
    monkeypatch.undo()
    assert snapshot(store) == before
    assert store.stray_temp_files() == []
    assert store.recover().rolled_forward == 0 and snapshot(store) == before


def test_failed_fsync_of_the_new_layer_leaves_everything_unchanged(store, monkeypatch):
    add(store, feat("YLU-0001"))
    before = snapshot(store)
    real_fsync = os.fsync

    def fsync(fd):
        if ".tmp-" in os.readlink(f"/proc/self/fd/{fd}"):
            _enospc()
        return real_fsync(fd)

    monkeypatch.setattr(store_mod.os, "fsync", fsync)
    with pytest.raises(StorageError, match="No space left"):
        add(store, feat("YLU-0002"))
    monkeypatch.undo()
    assert snapshot(store) == before and store.stray_temp_files() == []


def test_failed_history_append_changes_nothing(store, monkeypatch):
    add(store, feat("YLU-0001"))
    before = snapshot(store)
    monkeypatch.setattr(store_mod.os, "fsync", _enospc)
    with pytest.raises(
        StorageError, match=r"could not append to .*history\.jsonl.*nothing was changed"
    ):
        add(store, feat("YLU-0002"))
    monkeypatch.undo()
    assert snapshot(store) == before


def test_unstorable_text_is_a_data_error_not_a_crash(store):
    before = snapshot(store)
    with pytest.raises(DataError, match="not valid Unicode"):
        add(store, feat("YLU-0001"), reason="bad \udcff bytes")
    assert snapshot(store) == before


# -- the history as write-ahead log ------------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL between the history append and the layer write."""


def test_logged_but_unwritten_change_is_rolled_forward(store, monkeypatch):
    add(store, feat("YLU-0001"))
    layer_before = store.path.read_bytes()

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(store_mod, "atomic_write", killed)
    with pytest.raises(Killed):
        add(store, feat("YLU-0002"))
    monkeypatch.undo()
    assert store.path.read_bytes() == layer_before  # readers still see the old layer
    assert [e.seq for e in store.history()] == [1, 2]  # the change is logged
    assert store.recover().rolled_forward == 1
    assert set(current(store)) == {"YLU-0001", "YLU-0002"}
    assert store.replay() == current(store)
    assert store.recover().rolled_forward == 0


def test_entry_appended_by_hand_is_applied_by_the_next_transaction(store):
    add(store, feat("YLU-0001"))
    entry = {
        "seq": 2,
        "time": utc_now(),
        "user": "someone",
        "op": "add",
        "reason": None,
        "layer": "crossings",
        "undoes": None,
        "changes": [{"id": "YLU-0005", "before": None, "after": order_crossing(feat("YLU-0005"))}],
    }
    with store.history_path.open("ab") as fh:
        fh.write(orjson.dumps(entry) + b"\n")
    add(store, feat("YLU-0006"))
    assert set(current(store)) == {"YLU-0001", "YLU-0005", "YLU-0006"}
    assert [e.seq for e in store.history()] == [1, 2, 3]
    assert store.replay() == current(store)


def test_entries_of_other_layers_are_not_applied(store):
    add(store, feat("YLU-0001"))
    other = {
        "seq": 1,
        "time": utc_now(),
        "user": "x",
        "op": "add",
        "reason": None,
        "layer": "events",
        "undoes": None,
        "changes": [{"id": "EV-0001", "before": None, "after": feat("EV-0001")}],
    }
    with store.history_path.open("ab") as fh:
        fh.write(orjson.dumps(other) + b"\n")
    add(store, feat("YLU-0002"))
    assert set(current(store)) == {"YLU-0001", "YLU-0002"}


@pytest.mark.parametrize("torn", [b'{"seq": 2, "time": "2026-', b"\x00\x00\x00", b'{"seq":2}'])
def test_unfinished_append_is_set_aside_never_merged(store, torn, caplog):
    add(store, feat("YLU-0001"))
    _, history = snapshot(store)
    with store.history_path.open("ab") as fh:
        fh.write(torn)
    with pytest.raises(DataError, match=r"history\.jsonl line 2"):
        list(store.history())
    assert [e.seq for e in store.history(skip_damaged=True)] == [1]
    assert store.recover().rolled_forward == 0
    assert "moved it to history.jsonl.torn" in caplog.text
    assert store.history_path.read_bytes() == history
    assert (store.folder / "history.jsonl.torn").read_bytes() == torn + b"\n"  # kept
    add(store, feat("YLU-0002"))
    assert [e.seq for e in store.history()] == [1, 2]
    assert store.check_history() == []
    assert store.replay() == current(store)


def test_complete_last_entry_without_newline_is_kept_and_the_next_starts_a_line(store):
    add(store, feat("YLU-0001"))
    add(store, feat("YLU-0002"))
    store.history_path.write_bytes(store.history_path.read_bytes().rstrip(b"\n"))
    add(store, feat("YLU-0003"))
    assert [e.seq for e in store.history()] == [1, 2, 3]
    assert store.check_history() == []


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b"[1, 2]",
        b'{"seq": "x"}',
        b'{"seq": 9, "time": "t", "user": "u", "op": '
        b'"add", "layer": "crossings", "changes": [{"id": 5}]}',
    ],
)
def test_damaged_line_in_the_middle_is_reported_by_number_and_not_lost(store, line):
    add(store, feat("YLU-0001"))
    add(store, feat("YLU-0002"))
    first, second = store.history_path.read_bytes().splitlines(keepends=True)
    damaged = line.ljust(len(first) - 1) + b"\n"  # same length: the layer still lines up
    store.history_path.write_bytes(damaged + second)
    add(store, feat("YLU-0003"))  # writes go on: the damaged line is before the applied end
    with pytest.raises(DataError, match=r"history\.jsonl line 1"):
        store.undo()
    with pytest.raises(DataError, match=r"history\.jsonl line 1"):
        list(store.history())
    (problem,) = store.check_history()
    assert problem.value == "line 1" and "cannot be read" in problem.message
    assert store.history_path.read_bytes().startswith(damaged + second)


def test_stray_temp_files_of_dead_writers_are_removed(store):
    stray = store.folder / ".tmp-crossings.geojson.abc123"
    stray.write_bytes(b'{"type":"Feature"')  # half a layer
    assert store.stray_temp_files() == [stray]
    add(store, feat("YLU-0001"))
    assert not stray.exists()


# -- the lock --------------------------------------------------------------------


def test_lock_times_out_with_a_lock_error(tmp_path):
    holder = LayerStore(tmp_path, "crossings")
    waiter = LayerStore(tmp_path, "crossings", lock_timeout=0.2)
    held, release = threading.Event(), threading.Event()

    def hold():
        with holder.lock():
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        held.wait(10)
        with pytest.raises(LockError, match="another geotrack process has held the lock"):
            waiter.ensure_exists()
        assert not waiter.path.exists()
    finally:
        release.set()
        t.join()
    waiter.ensure_exists()  # free again once the holder is done
    assert waiter.path.exists()


def test_hand_written_layer_is_read_and_continued(tmp_path):
    """A FeatureCollection saved by another tool (pretty-printed, no geotrack member)."""
    s = LayerStore(tmp_path, "crossings", order=order_crossing)
    doc = {"type": "FeatureCollection", "features": [feat("YLU-0002"), feat("YLU-0001")]}
    s.path.write_text(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    add(s, feat("YLU-0003"))
    assert [f["id"] for f in s.read()] == ["YLU-0001", "YLU-0002", "YLU-0003"]
    (e,) = s.history()
    assert e.seq == 1 and [c.id for c in e.changes] == ["YLU-0003"]


def test_layer_that_is_not_a_collection_is_a_data_error(tmp_path):
    s = LayerStore(tmp_path, "crossings")
    s.path.write_bytes(b'{"type": "Feature"}')
    with pytest.raises(DataError, match="is not a GeoJSON FeatureCollection"):
        s.read()
    before = s.path.read_bytes()
    with pytest.raises(DataError):
        add(s, feat("YLU-0001"))
    assert s.path.read_bytes() == before
