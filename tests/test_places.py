"""Place-name matching across romanisations (``geotrack.places``).

A Korean place is written McCune–Reischauer (Poch'ŏn, often without breves or
apostrophes: Pochon) or Revised Romanization (Bocheon); every spelling finds the one
place, and the folding that allows it makes no two places of the bundled layers one.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.places import fold_romanisation, match_key

POCHON = "town:Poch'on-up"


@pytest.mark.parametrize(
    "name",
    ["Bocheon", "Pochon", "Poch'on", "Poch’ŏn", "POCH'ŎN", "Bocheon-eup", "Poch'ŏn-ŭp",
     "Pochon-up", "Bocheoneup", "보천", "보천읍"],
)  # fmt: skip
def test_every_romanisation_of_pochon_finds_the_town(ws, name):
    assert ws.gazetteer().find(name).id == POCHON


@pytest.mark.parametrize(
    ("spellings", "town"),
    [
        (
            ["Gimjeongsuk-eup", "Kimjŏngsuk-ŭp", "Kim Jong Suk"],
            "town:Kimjongsuk-up (formerly Sinpa)",
        ),
        (["Gimhyeongjik", "Kimhyŏngjik-ŭp"], "town:Kimhyongjik-up (formerly Huchang)"),
        (["Samjiyeon-eup", "Samjiyŏn"], "town:Samjiyon-up"),
        (["Chunggang-ŭp", "Junggang-eup"], "town:Junggang (Chunggang-up, Chagang)"),
        (["Gapsan", "Kapsan-ŭp"], "town:Kapsan"),
        (["Hyesan-si", "혜산시"], "town:Hyesan (Ryanggang capital)"),
    ],
)
def test_other_towns_match_in_either_romanisation(ws, spellings, town):
    g = ws.gazetteer()
    assert [g.find(s).id for s in spellings] == [town] * len(spellings)


@pytest.mark.parametrize(
    "name", ["Pochon", "Bocheon-gun", "Poch'ŏn-kun", "Pochon County", "Poch’ŏn County"]
)
def test_a_county_is_found_by_any_romanisation(ws, name):
    assert ws.placer().county([name]).placement_basis.startswith("Pochon county: ")


def test_no_two_bundled_places_or_counties_share_a_key(ws):
    """The folding makes no two distinct entries of the bundled layers ambiguous."""
    towns = {p.id: p.match_keys() for p in ws.gazetteer().places}
    counties = {c.name: {match_key(c.name)} for c in ws.counties}
    assert len(towns) == 12 and len(counties) == 6
    for entries in (towns, counties):
        for (a, ka), (b, kb) in itertools.combinations(entries.items(), 2):
            assert not ka & kb, f"{a} and {b} both answer to {sorted(ka & kb)}"


def test_unrelated_names_stay_apart():
    # the folding joins spellings of one sound, not different sounds
    pairs = [("Pochon", "Pochan"), ("Samsu", "Samso"), ("Hyesan", "Hyosan"), ("Kapsan", "Kasan")]
    for a, b in pairs:
        assert match_key(a) != match_key(b)


# -- properties ---------------------------------------------------------------------------------

#: Hangul initial consonants: (jamo index, MR word-initial, MR after a voiced sound, RR).
_INITIALS = [
    (0, "k", "g", "g"), (1, "kk", "kk", "kk"), (2, "n", "n", "n"), (3, "t", "d", "d"),
    (4, "tt", "tt", "tt"), (5, "r", "r", "r"), (6, "m", "m", "m"), (7, "p", "b", "b"),
    (8, "pp", "pp", "pp"), (9, "s", "s", "s"), (10, "ss", "ss", "ss"), (11, "", "", ""),
    (12, "ch", "j", "j"), (13, "tch", "tch", "jj"), (14, "ch'", "ch'", "ch"),
    (15, "k'", "k'", "k"), (16, "t'", "t'", "t"), (17, "p'", "p'", "p"), (18, "h", "h", "h"),
]  # fmt: skip
#: Hangul vowels in order: (MR, RR).
_VOWELS = [
    ("a", "a"), ("ae", "ae"), ("ya", "ya"), ("yae", "yae"), ("ŏ", "eo"), ("e", "e"),
    ("yŏ", "yeo"), ("ye", "ye"), ("o", "o"), ("wa", "wa"), ("wae", "wae"), ("oe", "oe"),
    ("yo", "yo"), ("u", "u"), ("wŏ", "wo"), ("we", "we"), ("wi", "wi"), ("yu", "yu"),
    ("ŭ", "eu"), ("ŭi", "ui"), ("i", "i"),
]  # fmt: skip
#: A few final consonants: (jamo index, romanised in both systems).
_FINALS = [(0, ""), (4, "n"), (16, "m"), (21, "ng"), (8, "l"), (1, "k"), (17, "p")]
#: Suffixes as each system writes them: (Hangul, MR choices, RR).
_SUFFIX = [("", [""], ""), ("읍", ["-ŭp", "-up"], "-eup"), ("리", ["-ri"], "-ri"),
           ("군", ["-kun", " County"], "-gun")]  # fmt: skip

_syllable = st.tuples(
    st.sampled_from(_INITIALS), st.integers(0, len(_VOWELS) - 1), st.sampled_from(_FINALS)
)


@st.composite
def _korean_name(draw) -> tuple[str, str, str]:
    """A Hangul name and its MR and RR spellings (MR voices k/t/p/ch after a voiced sound)."""
    hangul, mr, rr = "", "", ""
    for i, ((ini, mr0, mr1, rr_i), v, (fin, rom)) in enumerate(
        draw(st.lists(_syllable, min_size=2, max_size=4))
    ):
        hangul += chr(0xAC00 + (ini * 21 + v) * 28 + fin)
        voiced = i > 0 and not mr.endswith(("k", "p"))
        mr += (mr1 if voiced else mr0) + _VOWELS[v][0] + rom
        rr += rr_i + _VOWELS[v][1] + rom
    local, mr_suffixes, rr_suffix = draw(st.sampled_from(_SUFFIX))
    mr_name = mr.capitalize() + draw(st.sampled_from(mr_suffixes))
    return hangul + local, mr_name, rr.capitalize() + rr_suffix


@settings(max_examples=300, deadline=None)
@given(name=_korean_name(), plain=st.booleans(), curly=st.booleans())
def test_mr_with_or_without_breves_and_apostrophes_matches_rr(name, plain, curly):
    _, mr, rr = name
    if plain:  # as most English reports print it
        mr = mr.replace("'", "").replace("ŏ", "o").replace("ŭ", "u")
    elif curly:
        mr = mr.replace("'", "’")
    assert match_key(mr) == match_key(rr), (mr, rr)


@given(st.text())
def test_folding_twice_changes_nothing(text):
    once = fold_romanisation(text)
    assert fold_romanisation(once) == once


@given(st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)))
def test_hangul_is_never_folded(text):
    assert fold_romanisation(text) == text


@given(st.text(alphabet="acefhilmnoqrsuvwxyz'’ -"))
def test_letters_the_systems_spell_alike_are_left_as_written(text):
    """Only b, d, g, j and an e before o or u are rewritten (diacritics dropped)."""
    folded = fold_romanisation(text)
    assert folded == text or "e" in text
    assert folded.replace("e", "") == text.replace("e", "")
