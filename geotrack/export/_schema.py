"""The schema of every exported layer: its fields, their types and coded values.

Each layer is declared once, in :data:`LAYER_SPECS`: a title, a description, a
geometry type and a field table, one field a line (``name  type  alias``; a
type ending in ``*`` takes the codes of the :data:`DOMAINS` entry of the
field's name).  :mod:`geotrack.export._model` builds the layers from these
declarations; every writer reads the same :class:`Field` objects.
"""

from __future__ import annotations

__all__ = [
    "DOMAINS",
    "FIELD_TYPES",
    "LAYER_SPECS",
    "PUBLIC_DROPPED",
    "Domain",
    "Field",
    "LayerSpec",
    "field_table",
]

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geotrack.claim_schema import AREA_KINDS, PUBLISHED_PRECISIONS, QUALIFIERS, UNITS
from geotrack.schema import (
    BANKS,
    CREDIBILITY,
    DATE_PRECISIONS,
    DATUMS,
    KINDS,
    PLACEMENTS,
    PRECISIONS,
    RELIABILITY,
    SOURCE_TYPES,
    STATUSES,
    VERIFICATIONS,
)

#: Field types a layer may use (the same names as fiona's schema types).
FIELD_TYPES = ("str", "int", "float", "bool", "date", "datetime")


@dataclass(frozen=True)
class Domain:
    """A list of coded values with labels (a GDAL coded field domain).

    Examples
    --------
    >>> DOMAINS["kind"].codes["ford"]
    'Ford'
    """

    name: str
    type: str
    codes: Mapping[Any, str]
    description: str


#: Coded-value domains, by name (the GeoPackage domain name is the same).
DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("kind", "str", KINDS, "Kind of crossing"),
        Domain("status", "str", STATUSES, "Status of the crossing when last reported"),
        Domain("location_precision", "str", PRECISIONS, "How precisely the site is located"),
        Domain("datum", "str", DATUMS, "Datum the coordinate was reported in"),
        Domain("placement", "str", PLACEMENTS, "How the site was placed"),
        Domain("bank", "str", BANKS, "Bank of the river"),
        Domain("source_type", "str", SOURCE_TYPES, "Type of source"),
        Domain("date_precision", "str", DATE_PRECISIONS, "Precision of the event dates"),
        Domain("reliability", "str", RELIABILITY, "Admiralty code: source reliability A-F"),
        Domain("credibility", "int", CREDIBILITY, "Admiralty code: information credibility 1-6"),
        Domain("verification", "str", VERIFICATIONS, "Verification status of the report"),
        Domain("count_qualifier", "str", QUALIFIERS, "How the claimed count is qualified"),
        Domain("stated_unit", "str", UNITS, "Unit of the stated length, as printed"),
        Domain("area_kind", "str", AREA_KINDS, "How the claim's area is described"),
        Domain(
            "published_precision", "str", PUBLISHED_PRECISIONS, "Precision of the publication date"
        ),
    )
}


@dataclass(frozen=True)
class Field:
    """One attribute of a layer.

    Parameters
    ----------
    name : str
        Column name (ASCII, as written in every format).
    type : str
        One of :data:`FIELD_TYPES`.
    alias : str
        A readable name with its unit, shown by QGIS and in KML balloons.
    domain : str, optional
        Name of a :data:`DOMAINS` entry whose codes the values use.

    Examples
    --------
    >>> Field("uncertainty_m", "float", "Location uncertainty (m)").type
    'float'
    """

    name: str
    type: str
    alias: str
    domain: str | None = None

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name!r}: type {self.type!r} is not one of {FIELD_TYPES}")


def field_table(table: str) -> tuple[Field, ...]:
    """Fields from a table of lines ``name  type  alias`` (blank lines skipped).

    A type ending in ``*`` (``str*``) marks a coded field: its values are the
    codes of the :data:`DOMAINS` entry named like the field.

    Raises
    ------
    ValueError
        A line has fewer than three columns, an unknown type or an unknown domain.

    Examples
    --------
    >>> field_table('''
    ...     kind           str*   Kind
    ...     uncertainty_m  float  Location uncertainty (m)
    ... ''')[0]
    Field(name='kind', type='str', alias='Kind', domain='kind')
    """
    out = []
    for line in table.strip().splitlines():
        name, kind, alias = line.split(None, 2)
        coded = kind.endswith("*")
        if coded and name not in DOMAINS:
            raise ValueError(f"field {name!r}: no domain {name!r} in DOMAINS")
        out.append(Field(name, kind.rstrip("*"), alias, name if coded else None))
    return tuple(out)


#: Fields left out by a public export, per layer, and why.
PUBLIC_DROPPED: dict[str, dict[str, str]] = {
    "crossings": {
        "original_lon": "the exact longitude as reported",
        "original_lat": "the exact latitude as reported",
        "offset_m": "the exact offset from the river line (chainage rounded to whole km)",
    },
    "reports": {
        "url": "source URLs",
        "archive_url": "archive URLs",
        "sha256": "SHA-256 digests of captured items",
        "notes": "report notes",
        "extra": "other columns kept from imported files",
    },
    "claims": {"notes": "claim notes"},
    "relays": {"url": "relay URLs", "notes": "relay notes"},
}


@dataclass(frozen=True)
class LayerSpec:
    """The declaration of one exported layer.

    Parameters
    ----------
    name : str
        Layer name (also its style name).
    title, description : str
        Shown by QGIS, Google Earth and in the GeoPackage metadata.
    geometry_type : str or None
        GeoJSON geometry type, or None for a table.
    fields : tuple of Field
        The schema, in column order.
    key_field : str, optional
        For reference layers, the property that gives each feature its text key.
    renames : mapping, optional
        For reference layers, stored property names read under another name.

    Examples
    --------
    >>> LAYER_SPECS["reports"].public_fields[-1].name
    'source_ref'
    """

    name: str
    title: str
    description: str
    geometry_type: str | None
    fields: tuple[Field, ...]
    key_field: str | None = None
    renames: Mapping[str, str] = field(default_factory=dict)

    @property
    def public_fields(self) -> tuple[Field, ...]:
        """The fields a public export keeps (all but :data:`PUBLIC_DROPPED`)."""
        dropped = PUBLIC_DROPPED.get(self.name, {})
        return tuple(f for f in self.fields if f.name not in dropped)

    def fields_for(self, *, public: bool) -> tuple[Field, ...]:
        """:attr:`public_fields` for a public export, else :attr:`fields`."""
        return self.public_fields if public else self.fields


_SPECS: tuple[LayerSpec, ...] = (
    LayerSpec(
        "crossings",
        "Reported crossings",
        "Reported crossing sites of the Yalu (Amnok) between Baishan and Ryanggang, one Point per "
        "site (WGS 84); their reports are in the related table 'reports' (reports.site_id = "
        "crossings.id). Dates come from the reports: first_seen/last_seen bound the events.",
        "Point",
        field_table("""
            id                  str       Crossing id
            name                str       Name
            kind                str*      Kind
            status              str*      Status
            location_precision  str*      Location precision
            uncertainty_m       float     Location uncertainty (m)
            place_as_printed    str       Place as the report printed it
            placement           str*      Placed from
            placement_basis     str       Placement basis (geotrack's words)
            inferred            bool      Placement inferred (not printed)
            chainage_km         float     Chainage of the point (km from the west, downstream end)
            offset_m            float     Offset from the river line (m, + = CN side)
            bank                str*      Bank
            chainage_from_km    float     Spread along the river from (km)
            chainage_to_km      float     Spread along the river to (km)
            datum               str*      Datum as reported
            original_lon        float     Longitude as reported (deg)
            original_lat        float     Latitude as reported (deg)
            synthetic           bool      Synthetic (invented) record
            n_reports           int       Number of reports
            first_reported      date      First reported
            last_reported       date      Last reported
            first_seen          date      First seen (event start)
            last_seen           date      Last seen (event end)
            created_at          datetime  Record created (UTC)
            updated_at          datetime  Record updated (UTC)
        """),
    ),
    LayerSpec(
        "reports",
        "Reports on crossings",
        "One row per report (a claim by a source at a date) about a crossing site; site_id refers "
        "to crossings.id. Admiralty grades: reliability A-F, credibility 1-6.",
        None,
        field_table("""
            site_id         str    Crossing id
            report_id       str    Report id
            source_name     str    Source
            source_type     str*   Source type
            url             str    Source URL
            archive_url     str    Archived copy URL
            sha256          str    SHA-256 of the captured item
            accessed        date   Accessed
            reported        date   Reported
            event_start     date   Event start
            event_end       date   Event end
            date_precision  str*   Date precision
            reliability     str*   Source reliability (A-F)
            credibility     int*   Information credibility (1-6)
            verification    str*   Verification
            notes           str    Notes
            source_ref      str    Reference in the source (its id)
            extra           str    Other columns of the imported file (JSON)
        """),
    ),
    LayerSpec(
        "claims",
        "Claims about stretches",
        "Claims that a source made about a stretch of the river (a count of crossings over "
        "an area described in words), one LineString per claim: the window of the stretch "
        "its area resolves to (from_km-to_km, chainage km in EPSG:32652). Every outlet that "
        "printed it is in the related table 'relays' (relays.claim_id = claims.id); their "
        "figures are never merged, and where they differ 'conflicts' says so.",
        "LineString",
        field_table("""
            id                          str       Claim id
            label                       str       Label (count, who, first published)
            claimed_by                  str       Claimed by
            count                       int       Count claimed
            count_qualifier             str*      Count qualifier
            what_as_printed             str       What, as printed
            kinds                       str       Kinds coded from it (;-separated)
            area_as_printed             str       Area, as printed
            area_kind                   str*      Area described as
            area_places                 str       Counties or places named (;-separated)
            area_beyond                 str       Area runs past the stretch's end
            from_km                     float     Window start (chainage km)
            to_km                       float     Window end (chainage km)
            river_km                    float     Window along the river (km, EPSG:32652)
            area_basis                  str       How the area was resolved
            area_inferred               bool      Area reading inferred (not printed)
            stated_length               float     Stated length, as printed
            stated_unit                 str*      Unit of the stated length
            stated_km                   float     Stated length in km
            stated_length_as_printed    str       Stated length, as printed (text)
            imagery                     str       Imagery
            activity_period_as_printed  str       Activity period, as printed
            activity_start              date      Activity start
            activity_end                date      Activity end
            first_published             str       First published
            last_published              str       Last published
            n_relays                    int       Number of relays
            conflicts                   str       Where relays differ
            notes                       str       Notes
            created_at                  datetime  Record created (UTC)
            updated_at                  datetime  Record updated (UTC)
        """),
    ),
    LayerSpec(
        "relays",
        "Relays of claims",
        "One row per outlet that printed a claim, with the figures it printed; claim_id "
        "refers to claims.id.",
        None,
        field_table("""
            claim_id                    str    Claim id
            relay_id                    str    Relay id
            publisher                   str    Publisher
            published                   str    Published
            published_precision         str*   Publication date precision
            url                         str    URL
            language                    str    Language
            quote                       str    Quote, as printed
            count                       int    Count printed
            count_qualifier             str*   Count qualifier printed
            what_as_printed             str    What, as printed
            kinds                       str    Kinds coded from it (;-separated)
            area_as_printed             str    Area, as printed
            counties                    str    Counties named (;-separated)
            between_places              str    Places named (;-separated)
            stated_length               float  Stated length printed
            stated_unit                 str*   Unit printed
            stated_length_as_printed    str    Stated length, as printed (text)
            imagery                     str    Imagery
            activity_period_as_printed  str    Activity period, as printed
            notes                       str    Notes
        """),
    ),
    LayerSpec(
        "stretch",
        "Stretch (river line)",
        "The Baishan-Ryanggang stretch of the Yalu (Amnok) as one directed line: chainage 0 at "
        "the first vertex (west, downstream end at the Ryanggang/Chagang boundary), increasing "
        "upstream; lengths in km measured in EPSG:32652.",
        "LineString",
        field_table("""
            name                str    Name
            length_km           float  Length (km, EPSG:32652)
            chainage_origin     str    Chainage origin
            chainage_direction  str    Chainage direction
            measure_crs         str    CRS of measurements
            source              str    Source
            license             str    Licence
        """),
        renames={"length_km_epsg32652": "length_km"},
    ),
    LayerSpec(
        "county_segments",
        "County segments",
        "The stretch cut at county boundaries (Ryanggang), with chainages in km.",
        "LineString",
        field_table("""
            county             str    County
            province           str    Province
            wof_id             str    Who's On First id
            chainage_start_km  float  Chainage start (km)
            chainage_end_km    float  Chainage end (km)
            length_km          float  Length along the river (km)
            source             str    Source
            license            str    Licence
        """),
        key_field="county",
    ),
    LayerSpec(
        "border",
        "China-DPRK border",
        "The China-North Korea international boundary (OpenStreetMap, ODbL).",
        "MultiLineString",
        field_table("""
            name     str  Name
            source   str  Source
            license  str  Licence
            note     str  Note
        """),
    ),
    LayerSpec(
        "official_crossings",
        "Official crossings",
        "Official crossings (bridges, ports of entry) on the stretch: a reference layer, not "
        "reported informal crossings. Coordinate from English Wikipedia, CC BY-SA 4.0 "
        "(Wikipedia contributors).",
        "Point",
        field_table("""
            name           str  Name
            name_local     str  Local name
            kind           str  Kind
            cn_side        str  Chinese side
            kp_side        str  North Korean side
            facts          str  Facts
            fact_source    str  Source of the facts
            coord_source   str  Source of the coordinate
            coord_licence  str  Licence of the coordinate
        """),
        key_field="name",
    ),
    LayerSpec(
        "towns",
        "Towns",
        "Towns on both banks (CN = China, KP = North Korea) with their chainage along the stretch.",
        "Point",
        field_table("""
            name                   str    Name
            name_local             str    Local name
            country                str    Country (ISO 3166)
            stretch_chainage_km    float  Chainage of nearest river point (km)
            dist_to_border_km      float  Distance to the border (km)
            nearest_across_border  str    Nearest town across the border
            nearest_across_km      float  Distance to it (km)
            source_dataset         str    Source dataset
            license                str    Licence
        """),
        key_field="name",
    ),
)
#: Every exported layer's declaration, by layer name.
LAYER_SPECS: dict[str, LayerSpec] = {s.name: s for s in _SPECS}
