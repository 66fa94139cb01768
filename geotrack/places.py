"""The gazetteer: named places a report can be placed from, and how names match.

A :class:`Place` is a named point (a town of the workspace's towns layer, or a
place a user added with ``geotrack places add``).  :class:`Gazetteer` finds
places by name the way reports spell them: ignoring case, hyphens, spaces and
apostrophes, the settlement suffixes ``-up``/``-ri``/``-dong`` (읍/리/동, and
镇/村), a parenthesised remark, and by the local-script name (혜산, 长白).
Korean names match across romanisations (:func:`fold_romanisation`): McCune–Reischauer
with or without breves and apostrophes (Poch'ŏn, Pochon) and Revised Romanization
(Bocheon).
An unknown or ambiguous name is refused with the candidates listed.

No I/O here: :mod:`geotrack.workspace` reads the layers and builds the gazetteer.
"""

from __future__ import annotations

__all__ = [
    "Gazetteer",
    "Place",
    "fold_romanisation",
    "match_key",
    "normalize_place",
]

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from geotrack.errors import NotFoundError, Problem, ValidationError
from geotrack.schema import check_lonlat

#: Settlement and area suffixes dropped when matching (romanised and local script,
#: romanised ones as :func:`fold_romanisation` writes them: -eup/-ŭp/-up, -gun/-kun).
_SUFFIXES_AS_WRITTEN = (
    "up",
    "ri",
    "dong",
    "gun",
    "si",
    "county",
    "city",
    "town",
    "village",
    "읍",
    "리",
    "동",
    "군",
    "시",
    "镇",
    "村",
    "县",
    "市",
)
_APOSTROPHES = "'’‘ʼʻ`´"
_PAREN = re.compile(r"\s*[(（][^)）]*[)）]\s*")
_FORMERLY = re.compile(r"[(（]\s*(?:formerly|former|old name)\s+([^)）,;]+)[)）]", re.IGNORECASE)
_MAX_NAME = 200
_COUNTRIES = ("CN", "KP")


#: Revised Romanization's voiced and tense spellings -> McCune–Reischauer's plain ones
#: (b/p, d/t, g/k, j/ch; jj/tch), and RR's vowels eo (MR ŏ) and eu (MR ŭ) -> o, u.
_RR_TO_MR = re.compile(r"jj|[bdgj]|e+(?=[ou])")
_MR = {"jj": "tch", "b": "p", "d": "t", "g": "k", "j": "ch"}


def fold_romanisation(text: str) -> str:
    """*text* with Korean romanisation differences folded away (lower case expected).

    Diacritics on Latin letters are dropped (McCune–Reischauer's ŏ, ŭ), Revised
    Romanization's eo/eu become o/u, and the consonants the two systems spell
    differently become one letter: b→p, d→t, g→k, j→ch (jj→tch).  Apostrophes
    (MR's aspiration mark) are dropped by :func:`match_key` before.  Other scripts
    are left as they are.  Folding twice changes nothing.

    Examples
    --------
    >>> fold_romanisation("bocheon"), fold_romanisation("poch'ŏn"), fold_romanisation("보천")
    ('pochon', "poch'on", '보천')
    >>> fold_romanisation("gimjeongsuk"), fold_romanisation("kimjŏngsuk")
    ('kimchonksuk', 'kimchonksuk')
    """
    chars: list[str] = []
    for c in unicodedata.normalize("NFD", text):
        if not (unicodedata.combining(c) and chars and chars[-1].isascii()):
            chars.append(c)
    text = unicodedata.normalize("NFC", "".join(chars))
    return _RR_TO_MR.sub(lambda m: _MR.get(m.group(), ""), text)


_SUFFIXES = tuple(dict.fromkeys(map(fold_romanisation, _SUFFIXES_AS_WRITTEN)))
#: Romanised suffixes stripped even when written without a hyphen (-up, -ri, -dong).
_JOINED = tuple(map(fold_romanisation, ("up", "ri", "dong")))


def match_key(name: str) -> str:
    """The form of a place name used for matching.

    Case, hyphens, spaces, apostrophes, a parenthesised remark and a final
    settlement suffix (``-up``, ``-ri``, ``-dong``, ``county``, 읍, 리, 镇 ...)
    are dropped, and romanisations folded together (:func:`fold_romanisation`).

    Examples
    --------
    >>> match_key("Poch'on-up"), match_key("Bocheon-eup"), match_key("Poch’ŏn-ŭp")
    ('pochon', 'pochon', 'pochon')
    >>> match_key("Kimjongsuk-up (formerly Sinpa)"), match_key("Kim Jong Suk County")
    ('kimchonksuk', 'kimchonksuk')
    >>> match_key("Songjon-ri"), match_key("Songjonri"), match_key("Samsu-gun")
    ('sonkchon', 'sonkchon', 'samsu')
    >>> match_key("长白镇"), match_key("혜산시")
    ('长白', '혜산')
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _PAREN.sub(" ", text)
    words = [
        fold_romanisation(w)
        for w in re.split(r"[\s\-‐‑–—_.]+", text.translate({ord(c): None for c in _APOSTROPHES}))
        if w
    ]
    if len(words) > 1 and words[-1] in _SUFFIXES:
        words = words[:-1]
    key = fold_romanisation("".join(words))  # again: eo/eu split by a hyphen or space
    for suffix in _SUFFIXES:
        # local-script suffixes are written without a space (혜산시, 长白镇), and
        # -up/-ri/-dong often lose their hyphen (Songjonri)
        joined = not suffix.isascii() or suffix in _JOINED
        if (
            joined
            and key.endswith(suffix)
            and len(key) - len(suffix) >= (3 if suffix.isascii() else 2)
        ):
            key = key[: -len(suffix)]
            break
    return key


@dataclass(frozen=True)
class Place:
    """A named point of the gazetteer.

    Parameters
    ----------
    id : str
        ``town:NAME`` for a town of the towns layer, ``PL-0001`` for a user place.
    name : str
        The name as the layer spells it.
    lon, lat : float
        WGS 84.
    name_local : str, optional
        The name in local script (혜산, 长白镇).
    country : str, optional
        ``CN`` or ``KP``.
    source : str, optional
        Where the place's coordinate comes from.
    aliases : tuple of str
        Other names it is known by (a former name).

    Examples
    --------
    >>> p = Place("town:Hyesan", "Hyesan (Ryanggang capital)", 128.17778, 41.40167, "혜산", "KP")
    >>> sorted(p.match_keys())
    ['hyesan', '혜산']
    """

    id: str
    name: str
    lon: float
    lat: float
    name_local: str | None = None
    country: str | None = None
    source: str | None = None
    aliases: tuple[str, ...] = field(default=())

    def match_keys(self) -> set[str]:
        """Every match key this place answers to."""
        names = [self.name, *self.aliases]
        if self.name_local:
            names.append(self.name_local)
        names += _FORMERLY.findall(self.name)
        return {k for k in map(match_key, names) if k}

    @property
    def short_name(self) -> str:
        """The name without a parenthesised remark.

        Examples
        --------
        >>> Place("town:x", "Hyesan (Ryanggang capital)", 128.2, 41.4).short_name
        'Hyesan'
        """
        return _PAREN.sub(" ", self.name).strip() or self.name

    def label(self) -> str:
        """How the place is named in messages: name, local name, id.

        Examples
        --------
        >>> Place("PL-0001", "Songjon-ri", 127.9, 41.4, "송전리").label()
        'Songjon-ri (송전리; PL-0001)'
        """
        local = f"{self.name_local}; " if self.name_local else ""
        return f"{self.name} ({local}{self.id})"


class Gazetteer:
    """Places by name, matched as reports spell them.

    Parameters
    ----------
    places : iterable of Place

    Examples
    --------
    >>> g = Gazetteer([Place("town:Hyesan", "Hyesan (Ryanggang capital)", 128.17778, 41.40167,
    ...                      "혜산", "KP")])
    >>> g.find("hye-san").id, g.find("혜산").id
    ('town:Hyesan', 'town:Hyesan')
    >>> g.find("Hyesun")
    Traceback (most recent call last):
    ...
    geotrack.errors.NotFoundError: place='Hyesun' is not in the gazetteer: did you mean ...
    """

    def __init__(self, places: Iterable[Place]) -> None:
        self.places: tuple[Place, ...] = tuple(places)
        self._by_key: dict[str, list[Place]] = {}
        for p in self.places:
            for k in p.match_keys():
                self._by_key.setdefault(k, []).append(p)

    def __len__(self) -> int:
        return len(self.places)

    def candidates(self, name: str) -> list[Place]:
        """Every place *name* matches (none, one, or several when ambiguous)."""
        by_id = [p for p in self.places if p.id == name or p.id == f"town:{name}"]
        if by_id:
            return by_id
        return list(dict.fromkeys(self._by_key.get(match_key(name), [])))

    def find(self, name: str, *, field_name: str = "place") -> Place:
        """The one place *name* means.

        Raises
        ------
        NotFoundError
            No place matches, or several do; the message lists candidates.
        """
        hits = self.candidates(name)
        if len(hits) == 1:
            return hits[0]
        if hits:
            listed = "; ".join(p.label() for p in hits)
            raise NotFoundError(
                f"{field_name}={name!r} is ambiguous: it matches {listed}; "
                "give the id of the one you mean (e.g. PL-0001)"
            )
        keys = {k: p for p in self.places for k in p.match_keys()}
        close = difflib.get_close_matches(match_key(name), list(keys), n=5, cutoff=0.6)
        near = list(dict.fromkeys(keys[k] for k in close))
        shown = near or list(self.places)
        listed = "; ".join(p.label() for p in shown[:12])
        more = f" (+{len(shown) - 12} more: `geotrack places list`)" if len(shown) > 12 else ""
        hint = "did you mean" if near else "known places are"
        raise NotFoundError(
            f"{field_name}={name!r} is not in the gazetteer: {hint} {listed}{more}? "
            "Add a place with `geotrack places add NAME --lon LON --lat LAT --source SOURCE`"
        )


def normalize_place(rec: Mapping[str, Any], *, row: str | None = None) -> dict[str, Any]:
    """Check a user place (name, lon, lat, source, optional name_local, country, notes).

    Returns
    -------
    dict
        The place's properties with ``lon``/``lat`` as floats.

    Raises
    ------
    ValidationError
        Listing every problem.

    Examples
    --------
    >>> normalize_place({"name": "Songjon-ri", "lon": "127.9", "lat": "41.4",
    ...                  "source": "Daily NK", "country": "kp"})["country"]
    'KP'
    >>> normalize_place({"name": "", "lon": 1, "lat": 2, "source": "x"})
    Traceback (most recent call last):
    ...
    geotrack.errors.ValidationError: name='': is required: give the place's name as printed
    """
    probs: list[Problem] = []
    allowed = {"name", "name_local", "country", "lon", "lat", "source", "notes"}
    for key in sorted(set(rec) - allowed):
        probs.append(
            Problem(key, rec[key], f"is not a place field: use {', '.join(sorted(allowed))}", row)
        )
    out: dict[str, Any] = {}
    for key, required in (
        ("name", True),
        ("source", True),
        ("name_local", False),
        ("notes", False),
    ):
        value = rec.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                what = (
                    "the place's name as printed"
                    if key == "name"
                    else "where the coordinate comes from"
                )
                probs.append(Problem(key, value, f"is required: give {what}", row))
            out[key] = None
        elif not isinstance(value, str) or len(value) > _MAX_NAME * (10 if key == "notes" else 1):
            probs.append(
                Problem(key, value, f"must be text of at most {_MAX_NAME} characters", row)
            )
        elif key in ("name", "name_local") and not match_key(value):
            probs.append(Problem(key, value, "has no letters to match on: give a real name", row))
        else:
            out[key] = value.strip()
    country = rec.get("country")
    if country in (None, ""):
        out["country"] = None
    elif isinstance(country, str) and country.strip().upper() in _COUNTRIES:
        out["country"] = country.strip().upper()
    else:
        probs.append(Problem("country", country, "must be CN or KP (or left out)", row))
    ll = check_lonlat(rec.get("lon"), rec.get("lat"), row=row)
    probs.extend(ll)
    if not ll:
        out["lon"], out["lat"] = float(rec["lon"]), float(rec["lat"])
    if probs:
        raise ValidationError(probs)
    return out
