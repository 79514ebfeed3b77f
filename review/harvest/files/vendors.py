"""Per-vendor field mappings as data: which tag fills which field, in order of precedence.

One table per format family. A field's tuple lists the tags to try, first non-empty wins
(``JF > JO > T2`` for a journal's name, ``PY > EY > EA`` for a Web of Science year). Type tables
override the family table for one reference type (a chapter's venue is its book, ``T2``). Tags
not named here stay in the record's ``raw`` payload; ``*_EXTRA`` tables name tags kept in
``Record.extra`` so exports can write them back out.
"""

from __future__ import annotations

# RIS ----------------------------------------------------------------------------------------
# Ovid, Embase.com, CENTRAL, PsycINFO (Ovid/EBSCO), Scopus, Web of Science RIS, PubMed (via
# EndNote), IEEE, JSTOR, ProQuest, TRID, Zotero/EndNote/Mendeley. Ovid writes the original
# (foreign-language) title in T2 next to the journal in JF, so JF/JO come first.
RIS_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("TI", "T1", "CT", "BT"),
    "abstract": ("AB", "N2"),
    "authors": ("AU", "A1"),
    "year": ("PY", "Y1", "DA", "Y2"),
    "venue": ("JF", "JO", "T2", "JA", "J2", "J1", "BT"),
    "volume": ("VL", "VO"),
    "issue": ("IS", "CP", "M2"),
    "start_page": ("SP",),
    "end_page": ("EP",),
    "language": ("LA",),
    "doi": ("DO", "DI", "M3"),  # M3 only when it holds a DOI (EndNote); Ovid's M3 is a type
    "issn": ("SN",),
    "keywords": ("KW", "DE"),
    "url": ("UR", "L2", "LK", "L1"),
    "type_detail": ("M3", "PT"),  # Ovid/Embase "Article", "Conference Abstract"; kept in extra
    "record_id": ("AN",),  # vendor accession number (Ovid, WoS "WOS:", PsycINFO, PubMed)
    "export_id": ("ID",),  # a reference manager's own number: used only when nothing better
    "database": ("DB",),  # DP is the provider (Ovid Technologies, EBSCOhost), not a database
    "pmcid": ("C2",),
    "pmid": ("PMID", "PM", "U1"),  # U1 only as "PMID:<id>" (our exports' custom tag)
}
# Fields that a reference type reads differently (chapters: book title in T2, series in T3).
RIS_TYPE_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "CHAP": {"venue": ("T2", "BT", "JF"), "series": ("T3",)},
    "ECHAP": {"venue": ("T2", "BT", "JF"), "series": ("T3",)},
    "BOOK": {"venue": ("T2", "T3"), "series": ("T3",)},
    "EBOOK": {"venue": ("T2", "T3"), "series": ("T3",)},
    "CONF": {"venue": ("T2", "BT", "JF", "JO")},
    "CPAPER": {"venue": ("T2", "BT", "JF", "JO")},
    "THES": {"venue": ("T2", "PB")},
}
RIS_BOOK_TYPES = frozenset({"BOOK", "CHAP", "EBOOK", "ECHAP", "EDBOOK"})
# Tags kept in Record.extra (and written back by exports) under these names.
RIS_EXTRA: dict[str, str] = {
    "A2": "editors",
    "A3": "series_editors",
    "PB": "publisher",
    "CY": "place",
    "ET": "edition",
    "T3": "series",
    "M3": "type_detail",
    "C2": "pmcid",
    "AD": "addresses",
    "N1": "notes",
    "ST": "short_title",
}
RIS_LIST_TAGS = frozenset(
    {"AU", "A1", "A2", "A3", "A4", "KW", "UR", "L1", "L2", "N1", "AD", "DE", "SN", "U3"}
)

# Ovid names each record's database in the D= parameter of its links (L2/UR). Prefixes of
# the segment codes (emed22, med27, psyc7 ...), longest first wins.
OVID_DATABASES: dict[str, str] = {
    "cctr": "CENTRAL",
    "coch": "Cochrane Database of Systematic Reviews",
    "clcmr": "Cochrane Methodology Register",
    "clhta": "HTA",
    "dare": "DARE",
    "medl": "MEDLINE",
    "mesz": "MEDLINE",
    "mezd": "MEDLINE",
    "prem": "MEDLINE",
    "ppez": "MEDLINE",
    "med": "MEDLINE",
    "emed": "Embase",
    "emez": "Embase",
    "emex": "Embase",
    "emcr": "Embase",
    "oemez": "Embase",
    "empp": "Embase",
    "psyc": "PsycINFO",
    "psyh": "PsycINFO",
    "psyb": "PsycINFO",
    "amed": "AMED",
    "cagh": "Global Health",
    "caba": "CAB Abstracts",
    "econ": "EconLit",
    "hmic": "HMIC",
    "ovft": "Journals@Ovid",
    "biob": "BIOSIS Previews",
}
# A record's DB/DP text -> database name (substring, lower case, first match wins).
DATABASE_NAMES: tuple[tuple[str, str], ...] = (
    ("central register of controlled trials", "CENTRAL"),
    ("cochrane database of systematic reviews", "Cochrane Database of Systematic Reviews"),
    ("embase", "Embase"),
    ("psycinfo", "PsycINFO"),
    ("medline", "MEDLINE"),
    ("scopus", "Scopus"),
    ("web of science", "Web of Science"),
    ("cinahl", "CINAHL"),
)
# DP (the provider) names a database only where the provider is one: EndNote's PubMed RIS.
PROVIDER_DATABASES: dict[str, str] = {"NLM": "PubMed"}

# Web of Science plain text ------------------------------------------------------------------
# Early-access records have no PY: their year is EY (early-access year) or EA (its month).
WOS_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("TI",),
    "abstract": ("AB",),
    "authors": ("AF", "AU"),
    "year": ("PY", "EY", "EA", "PD"),
    "venue": ("SO", "SE", "BS"),
    "volume": ("VL",),
    "issue": ("IS",),
    "start_page": ("BP", "AR"),
    "end_page": ("EP",),
    "language": ("LA",),
    "doi": ("DI", "D2"),
    "pmid": ("PM",),
    "issn": ("SN", "EI"),
    "isbn": ("BN",),
    "record_type": ("DT", "PT"),
    "keywords": ("DE", "ID"),
    "record_id": ("UT",),
}
# Continuation lines of these tags are new items (one author / address / reference a line);
# every other tag's continuation lines continue the same text ("Machine\n   learning").
WOS_LINE_ITEM_TAGS = frozenset(
    {"AU", "AF", "BA", "BF", "CA", "GP", "BE", "C1", "C3", "CR", "RI", "OI", "EM", "FU", "RP"}
)
WOS_EXTRA: dict[str, str] = {"PU": "publisher", "PI": "place", "SE": "series", "EA": "early_access"}

# PubMed / ERIC MEDLINE (nbib) ---------------------------------------------------------------
MEDLINE_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("TI", "BTI"),
    "abstract": ("AB",),
    "authors": ("FAU", "AU"),
    "year": ("DP", "DEP", "SO"),
    "venue": ("JT", "TA"),
    "volume": ("VI",),
    "issue": ("IP",),
    "pages": ("PG",),
    "language": ("LA",),
    "record_type": ("PT",),
    "pmid": ("PMID",),
    "issn": ("IS", "ISSN"),  # ERIC writes "ISSN - ISSN-1234-4567"
    "isbn": ("ISBN",),
    "keywords": ("OT", "MH"),
    "record_id": ("PMID", "OID", "AN"),
}
MEDLINE_EXTRA: dict[str, str] = {"PMC": "pmcid", "PL": "place", "PB": "publisher"}

# BibTeX (bibtexparser; field names lower-cased) ---------------------------------------------
BIBTEX_FIELDS: dict[str, tuple[str, ...]] = {
    "venue": (
        "journal",
        "booktitle",
        "journaltitle",
        "howpublished",
        "school",
        "institution",
        "series",
    ),
    "issue": ("number", "issue"),
    "issn": ("issn", "eissn"),
    "pmid": ("pmid",),
    # our exports' custom field, WoS "unique-id", Scopus "eid", then the citation key
    "record_id": ("source_record_id", "unique-id", "eid"),
    "record_type": ("record_type",),  # our exports keep the vendor's type; else the entry type
    "database": ("database",),
    "keywords": ("keywords", "author_keywords", "keyword"),
}
BIBTEX_EXTRA: dict[str, str] = {
    "publisher": "publisher",
    "address": "place",
    "edition": "edition",
    "series": "series",
    "editor": "editors",
    "pmcid": "pmcid",
    "institution": "institution",
}

# Links that carry a vendor's record id (Scopus keeps its EID only inside the UR link).
ID_IN_URL: tuple[tuple[str, str], ...] = (
    (r"scopus\.com/.*[?&]eid=(2-s2\.0-\d+)", "Scopus"),
    (r"ovid\.com/.*[?&]AN=([\w.-]+)", "Ovid"),
    (r"webofscience\.com/.*?(WOS:\w+)", "Web of Science"),
    (r"pubmed\.ncbi\.nlm\.nih\.gov/(\d+)", "PubMed"),
)
