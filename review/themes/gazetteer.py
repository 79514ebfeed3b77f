"""Names that point to a country: pycountry names plus aliases, cities, French and Portuguese.

Kept apart from ``regions.py`` (which reads and writes the workspace) so it is pure data.
Every name maps to an ISO 3166-1 alpha-2 code.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

ALIASES: dict[str, str] = {
    # renamed or informal country names
    "Swaziland": "SZ",
    "eSwatini": "SZ",
    "Kingdom of Eswatini": "SZ",
    "DRC": "CD",
    "DR Congo": "CD",
    "D.R. Congo": "CD",
    "Congo-Kinshasa": "CD",
    "Zaire": "CD",
    "Democratic Republic of the Congo": "CD",
    "Democratic Republic of Congo": "CD",
    "Congo-Brazzaville": "CG",
    "Republic of the Congo": "CG",
    "Tanzania": "TZ",
    "United Republic of Tanzania": "TZ",
    "Zanzibar": "TZ",
    "Ivory Coast": "CI",
    "Cape Verde": "CV",
    "The Gambia": "GM",
    "Gambia": "GM",
    "South Korea": "KR",
    "North Korea": "KP",
    "Russia": "RU",
    "Iran": "IR",
    "Syria": "SY",
    "Vietnam": "VN",
    "Laos": "LA",
    "Bolivia": "BO",
    "Venezuela": "VE",
    "Moldova": "MD",
    "UK": "GB",
    "RSA": "ZA",
    "Congo, Democratic Republic": "CD",
    "Maurice": "MU",
    "United Kingdom": "GB",
    "Great Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "USA": "US",
    "U.S.A.": "US",
    "United States": "US",
    "United States of America": "US",
    "Czech Republic": "CZ",
    "Burma": "MM",
    "Holland": "NL",
    "Botswana": "BW",
    # demonyms used as locations ("South African municipalities")
    "South African": "ZA",
    "Zambian": "ZM",
    "Zimbabwean": "ZW",
    "Namibian": "NA",
    "Mozambican": "MZ",
    "Angolan": "AO",
    "Malawian": "MW",
    "Tanzanian": "TZ",
    "Malagasy": "MG",
    "Mauritian": "MU",
    "Basotho": "LS",
    "Swazi": "SZ",
    "Seychellois": "SC",
    "Comorian": "KM",
    "Motswana": "BW",
    "Batswana": "BW",
    "Kenyan": "KE",
    "Nigerian": "NG",
    "Ghanaian": "GH",
    "Rwandan": "RW",
    "Ugandan": "UG",
    "Ethiopian": "ET",
    "Egyptian": "EG",
    "Moroccan": "MA",
    # provinces and regions
    "Cabo Delgado": "MZ",
    "Gauteng": "ZA",
    "KwaZulu-Natal": "ZA",
    "Western Cape": "ZA",
    "Eastern Cape": "ZA",
    "Limpopo": "ZA",
    "Mpumalanga": "ZA",
    "Copperbelt": "ZM",
    "Katanga": "CD",
}

CITIES: dict[str, str] = {
    "Johannesburg": "ZA",
    "Cape Town": "ZA",
    "Durban": "ZA",
    "eThekwini": "ZA",
    "Pretoria": "ZA",
    "Tshwane": "ZA",
    "Ekurhuleni": "ZA",
    "Soweto": "ZA",
    "Port Elizabeth": "ZA",
    "Gqeberha": "ZA",
    "Nelson Mandela Bay": "ZA",
    "Bloemfontein": "ZA",
    "Polokwane": "ZA",
    "Stellenbosch": "ZA",
    "East London": "ZA",
    "Pietermaritzburg": "ZA",
    "Lusaka": "ZM",
    "Ndola": "ZM",
    "Kitwe": "ZM",
    "Livingstone": "ZM",
    "Harare": "ZW",
    "Bulawayo": "ZW",
    "Mutare": "ZW",
    "Maputo": "MZ",
    "Beira": "MZ",
    "Nampula": "MZ",
    "Matola": "MZ",
    "Windhoek": "NA",
    "Walvis Bay": "NA",
    "Swakopmund": "NA",
    "Gaborone": "BW",
    "Francistown": "BW",
    "Dar es Salaam": "TZ",
    "Dodoma": "TZ",
    "Arusha": "TZ",
    "Mwanza": "TZ",
    "Luanda": "AO",
    "Lobito": "AO",
    "Huambo": "AO",
    "Benguela": "AO",
    "Lilongwe": "MW",
    "Blantyre": "MW",
    "Mzuzu": "MW",
    "Zomba": "MW",
    "Maseru": "LS",
    "Mbabane": "SZ",
    "Manzini": "SZ",
    "Port Louis": "MU",
    "Ebene": "MU",
    "Antananarivo": "MG",
    "Toamasina": "MG",
    "Moroni": "KM",
    "Kinshasa": "CD",
    "Lubumbashi": "CD",
    "Goma": "CD",
    "Kisangani": "CD",
    "Brazzaville": "CG",
    "Nairobi": "KE",
    "Mombasa": "KE",
    "Kigali": "RW",
    "Kampala": "UG",
    "Addis Ababa": "ET",
    "Lagos": "NG",
    "Abuja": "NG",
    "Accra": "GH",
    "Kumasi": "GH",
    "Dakar": "SN",
    "Cairo": "EG",
    "Casablanca": "MA",
    "Tunis": "TN",
    "Abidjan": "CI",
}

FRENCH: dict[str, str] = {
    "Afrique du Sud": "ZA",
    "Zambie": "ZM",
    "Namibie": "NA",
    "Tanzanie": "TZ",
    "Comores": "KM",
    "République démocratique du Congo": "CD",
    "République Démocratique du Congo": "CD",
    "RDC": "CD",
    "RD Congo": "CD",
    "Île Maurice": "MU",
    "République de Maurice": "MU",
    "Eswatini": "SZ",
    "Nigéria": "NG",
    "Égypte": "EG",
    "Éthiopie": "ET",
    "Ouganda": "UG",
    "Maroc": "MA",
    "Tunisie": "TN",
    "Algérie": "DZ",
    "Sénégal": "SN",
    "Côte d'Ivoire": "CI",
    "Cameroun": "CM",
    "Tchad": "TD",
    "Mauritanie": "MR",
    "Guinée": "GN",
    "Bénin": "BJ",
    "Afrique du Sud du": "ZA",
}

PORTUGUESE: dict[str, str] = {
    "África do Sul": "ZA",
    "Moçambique": "MZ",
    "Zâmbia": "ZM",
    "Zimbábue": "ZW",
    "Zimbabué": "ZW",
    "Namíbia": "NA",
    "Botsuana": "BW",
    "Tanzânia": "TZ",
    "Maláui": "MW",
    "Malawi": "MW",
    "Maurícia": "MU",
    "Maurício": "MU",
    "Lesoto": "LS",
    "Essuatíni": "SZ",
    "Suazilândia": "SZ",
    "Madagáscar": "MG",
    "Madagascar": "MG",
    "Seicheles": "SC",
    "República Democrática do Congo": "CD",
    "Quénia": "KE",
    "Quênia": "KE",
    "Nigéria": "NG",
    "Etiópia": "ET",
    "Gana": "GH",
    "Cabo Verde": "CV",
    "Guiné-Bissau": "GW",
    "São Tomé e Príncipe": "ST",
    "Brasil": "BR",
}

# names that are also ordinary words or given names: counted only when capitalised, not
# directly followed by another capitalised word ("Chad Smith") and not in a known phrase
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "chad": (),
    "jordan": (),
    "georgia": (),
    "jersey": (),
    "turkey": (),
    "niger": (),
    "guinea": ("pig", "pigs", "fowl", "worm"),
    "china": ("clay", "ware"),
    "mali": (),
    "togo": (),
    "gabon": (),
    "lebanon": (),
    "maurice": (),
    "victoria": (),
    "livingstone": (),
    "beira": (),
    "goma": (),
    "gana": (),
    "zomba": (),
    "moroni": (),
    "east london": (),
    "congo": ("basin", "river"),
    "reunion": (),
    "jamaica": (),
    "malta": (),
}

# pycountry names we do not use as they stand (the part before a comma is ambiguous)
SKIP_SHORT = {"congo", "korea", "virgin islands", "micronesia", "saint martin"}


def fold(text: str) -> str:
    """Accents removed, case kept ("África" → "Africa"), so names match in any language."""
    if text.isascii():
        return text
    t = unicodedata.normalize("NFKD", text)
    return "".join(c for c in t if not unicodedata.combining(c))


def _key(name: str) -> str:
    return " ".join(re.sub(r"[\s\-]+", " ", fold(name).lower().replace(".", "")).split())


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, str]:
    """Folded lower-case name → ISO alpha-2 code."""
    import pycountry

    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            v = getattr(c, attr, None)
            if not v:
                continue
            names.setdefault(_key(v), c.alpha_2)
            if "," in v:
                head, tail = (s.strip() for s in v.split(",", 1))
                if _key(head) not in SKIP_SHORT:
                    names.setdefault(_key(head), c.alpha_2)
                names.setdefault(_key(f"{tail} {head}"), c.alpha_2)
    for table in (ALIASES, CITIES, FRENCH, PORTUGUESE):
        for k, v in table.items():
            names[_key(k)] = v
    return names


_WORD = re.compile(r"\w+")


def _sort_key(term: str) -> tuple[int, str]:
    return (-len(term), term)


@lru_cache(maxsize=1)
def _by_word() -> dict[str, tuple[tuple[str, frozenset[str]], ...]]:
    """Gazetteer names indexed by their longest word, with all their words (``\\w+`` tokens)."""
    out: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for term in gazetteer():
        words = frozenset(_WORD.findall(term))
        out.setdefault(max(sorted(words), key=len), []).append((term, words))
    return {w: tuple(v) for w, v in out.items()}


@lru_cache(maxsize=4096)
def country_code(name: str) -> str | None:
    """ISO alpha-2 code of one country name, alias, city or code ("Swaziland" -> "SZ")."""
    key = _key(name)
    if not key:
        return None
    code = gazetteer().get(key)
    if code:
        return code
    import pycountry

    try:
        return str(pycountry.countries.lookup(name.strip()).alpha_2)
    except LookupError:
        return None
