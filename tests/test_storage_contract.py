"""The storage contract, written once and run against every store (folder and PostGIS).

Under CI=true the PostGIS run must not be skipped: scripts/test.sh starts a throwaway
PostgreSQL + PostGIS cluster and exports GEOTRACK_TEST_PG (see tests/conftest.py).
"""

from __future__ import annotations

import pytest

from geotrack.errors import DataError, NotFoundError
from geotrack.storage import Layer, LayerTransaction, Store, plan_undo
from geotrack.store import current_user


def feat(fid: str, lon: float = 127.2696, **props) -> dict:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [lon, 41.5195]},
        "properties": {"id": fid, "kind": "ford", **props},
    }


def add(layer: Layer, *features: dict, user: str | None = None, op: str = "add") -> None:
    with layer.transaction(op=op, user=user) as tx:
        for f in features:
            tx.put(f)


def edit(layer: Layer, fid: str, *, user: str | None = None, **props) -> None:
    with layer.transaction(op="edit", user=user) as tx:
        f = tx.get(fid)
        tx.put({**f, "properties": {**f["properties"], **props}})


def current(layer: Layer) -> dict[str, dict]:
    return {f["id"]: f for f in layer.read()}


def test_both_stores_keep_the_protocol(any_store):
    assert isinstance(any_store, Store)
    layer = any_store.layer("crossings")
    assert isinstance(layer, Layer)
    with layer.transaction(op="noop") as tx:
        assert isinstance(tx, LayerTransaction)
    assert layer.is_empty() and list(layer.history()) == [] and layer.check_history() == []


def test_transaction_commits_changes_and_one_entry_or_nothing(layer):
    add(layer, feat("YLU-0001"), feat("YLU-0002"), user="ana")
    with pytest.raises(RuntimeError), layer.transaction(op="edit") as tx:
        tx.put(feat("YLU-0001", notes="never"))
        raise RuntimeError("the block failed")
    (entry,) = layer.history()
    assert (entry.seq, entry.op, entry.user) == (1, "add", "ana")
    assert [c.id for c in entry.changes] == ["YLU-0001", "YLU-0002"]
    assert "notes" not in current(layer)["YLU-0001"]["properties"]
    assert layer.read_one("YLU-0002") == current(layer)["YLU-0002"]
    assert layer.read_one("YLU-0099") is None
    assert layer.recover_if_writable().rolled_forward == 0
    with layer.transaction(op="edit") as tx:  # a change to nothing writes nothing
        tx.put(tx.get("YLU-0001"))
    assert len(list(layer.history())) == 1
    with pytest.raises(NotFoundError, match="YLU-0009"), layer.transaction(op="edit") as tx:
        tx.get("YLU-0009")
    assert layer.replay() == current(layer)


def test_undo_reverts_my_change_not_the_later_one_of_someone_else(layer):
    """The issue's first broken promise: undo used to revert anyone's last change."""
    add(layer, feat("YLU-0001"), user="ana")
    edit(layer, "YLU-0001", user="ana", notes="ana's edit")
    add(layer, feat("YLU-0002"), user="ben")
    entry = layer.undo(user="ana")
    assert entry.undoes == 2 and entry.user == "ana" and entry.op == "undo"
    now = current(layer)
    assert set(now) == {"YLU-0001", "YLU-0002"}  # ben's crossing stays
    assert "notes" not in now["YLU-0001"]["properties"]
    assert [e.seq for e in layer.history("YLU-0002")] == [3]
    assert layer.replay() == current(layer)


def test_undo_refuses_naming_who_changed_what_since(layer):
    add(layer, feat("YLU-0001"), user="ana")
    edit(layer, "YLU-0001", user="ben", notes="ben's edit")
    with pytest.raises(DataError, match=r"YLU-0001 by ben at .*operation 2, edit"):
        layer.undo(user="ana")
    assert len(list(layer.history())) == 2
    assert current(layer)["YLU-0001"]["properties"]["notes"] == "ben's edit"
    with pytest.raises(NotFoundError, match="'carl' has no change left to undo"):
        layer.undo(user="carl")


def test_undo_is_itself_undoable_and_ids_are_never_reused(layer):
    add(layer, feat("YLU-0001"), user="ana")
    with layer.transaction(op="add", user="ana") as tx:
        (fid,) = tx.new_ids(1)
        tx.put(feat(fid))
    assert fid == "YLU-0002"
    undo = layer.undo(user="ana")
    assert undo.undoes == 2 and set(current(layer)) == {"YLU-0001"}
    with pytest.raises(DataError, match="already undone by operation 3"):
        layer.undo(op=2, user="ana")
    redo = layer.undo(op=undo.seq, user="ben")  # undoing the undo brings it back
    assert redo.undoes == undo.seq and set(current(layer)) == {"YLU-0001", "YLU-0002"}
    layer.undo(user="ana")  # ana's latest change not undone is the add of YLU-0002 again
    assert set(current(layer)) == {"YLU-0001"}
    with layer.transaction(op="add", user="ben") as tx:
        assert tx.new_ids(2) == ["YLU-0003", "YLU-0004"]  # 0002 stays taken
    assert [e.op for e in layer.history("YLU-0002")] == ["add", "undo", "undo", "undo"]
    assert layer.replay() == current(layer)


def test_undo_of_a_named_operation_and_of_nothing(layer):
    add(layer, feat("YLU-0001"), user="ana")
    add(layer, feat("YLU-0002"), user="ana")
    layer.undo(op=1, user="ben")  # an older, independent operation, by anyone
    assert set(current(layer)) == {"YLU-0002"}
    with pytest.raises(NotFoundError, match="no operation 99"):
        layer.undo(op=99)


def test_kept_ids_move_the_counter_and_the_pattern_is_never_overflowed(layer):
    with layer.transaction(op="import") as tx:
        tx.reserve_ids(["YLU-0041"])
        tx.put(feat("YLU-0041"))
        assert tx.new_ids(1) == ["YLU-0042"]
    with layer.transaction(op="add") as tx:
        assert tx.new_ids(1) == ["YLU-0043"]  # 0042 was given out (and never will be again)
        tx.reserve_ids(["YLU-999999998"])
        assert tx.new_ids(1) == ["YLU-999999999"]
        with pytest.raises(DataError, match="at most 9 digits"):
            tx.new_ids(1)


def test_load_fills_an_empty_layer_and_keeps_seqs(layer, tmp_path):
    from geotrack.store import LayerStore

    src = LayerStore(tmp_path / "src", "crossings")
    src.folder.mkdir()
    src.ensure_exists()
    add(src, feat("YLU-0001"), user="ana")
    edit(src, "YLU-0001", user="ben", notes="x")
    layer.load(src.read(), list(src.history()))
    assert current(layer) == current(src)
    assert [e.as_dict() for e in layer.history()] == [e.as_dict() for e in src.history()]
    with layer.transaction(op="add") as tx:
        assert tx.new_ids(1) == ["YLU-0002"]
        tx.put(feat("YLU-0002"))
    assert [e.seq for e in layer.history()] == [1, 2, 3]


def test_plan_undo_defaults_to_the_current_user():
    assert current_user()
    with pytest.raises(NotFoundError):
        plan_undo([], {}, user="nobody")


def test_another_layer_kind_plugs_in_with_its_own_ids(any_store):
    """The claims kind (ids C1, C2...) in both stores: ids never reused after an undo."""
    claims = any_store.layer("claims")
    claims.ensure_exists()
    claim = {"type": "Feature", "geometry": None, "properties": {"claimed_by": "unit test"}}
    with claims.transaction(op="add", user="ana") as tx:
        (cid,) = tx.new_ids(1)
        tx.put({**claim, "id": cid, "properties": {**claim["properties"], "id": cid}})
    assert cid == "C1" and [f["id"] for f in claims.read()] == ["C1"]
    claims.undo(user="ana")
    with claims.transaction(op="add", user="ana") as tx:
        assert tx.new_ids(1) == ["C2"]
    assert [e.op for e in claims.history()] == ["add", "undo"]
    assert any_store.layer("crossings").read() == []  # layers stay apart
