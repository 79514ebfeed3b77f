"""Pure normalisation of bibliographic fields for matching (no I/O, no database).

Titles lose HTML entities and tags, LaTeX accents and commands, language tags such as
``[Chinese]`` or ``LA: Chi``, the brackets Medline puts round translated titles, case, accents and
punctuation. Non-Latin scripts are kept (``\\w`` is Unicode-aware) so a Chinese or Russian title
still matches itself and never collapses to an empty string that would match everything.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..models import normalize_doi, normalize_text
from ..models import normalize_pmid as _normalize_pmid

_LATEX_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
}
_LATEX_LETTERS = {
    "ss": "ss",
    "o": "o",
    "O": "O",
    "ae": "ae",
    "AE": "AE",
    "oe": "oe",
    "aa": "a",
    "l": "l",
    "i": "i",
}
_ACCENT_RE = re.compile(r"\\([\"'`^~=.]|[cvuHk](?=[\s{]))\s*\{?\s*([A-Za-z])\s*\}?")
_LETTER_RE = re.compile(r"\\(ss|ae|AE|oe|aa|o|O|l|i)(?![A-Za-z])\s*")
_COMMAND_RE = re.compile(r"\\[A-Za-z]+\*?\s*")
_TAG_RE = re.compile(r"<[^<>]{1,40}>")
_LANGS = (
    "chinese|japanese|german|french|spanish|russian|portuguese|italian|polish|korean|dutch|czech|"
    "hungarian|turkish|swedish|danish|norwegian|finnish|greek|hebrew|arabic|persian|croatian|serbian|"
    "romanian|ukrainian|slovak|slovenian|bulgarian|lithuanian|english|afrikaans"
)
_LANG_TAG_RE = re.compile(
    rf"\s*(\[(?:in\s+)?(?:{_LANGS})(?:[^\]]*)\]|\bLA:\s*\w+.*|\((?:in\s+)?(?:{_LANGS})\s*\))\s*\.?\s*$",
    re.IGNORECASE,
)
_NOTE_RE = re.compile(
    r"[\[(]\s*(?:erratum|comment|retraction|review|corrected|see|published|vol\s+\d|\d+\s+refs?)[^\])]*[\])]",
    re.IGNORECASE,
)
_STOP = frozenset(
    "a an the of in on and for to with by at from as is are de la le et der die und".split()
)
_WEAK_TITLES = frozenset(
    {
        "editorial",
        "erratum",
        "errata",
        "correction",
        "corrigendum",
        "reply",
        "letter",
        "letter to the editor",
        "in reply",
        "response",
        "introduction",
        "preface",
        "foreword",
        "commentary",
        "comment",
        "abstracts",
        "untitled",
        "news",
        "book review",
    }
)
#: words that name a kind of item rather than a subject: a title made only of these (and
#: function words, numbers, ordinals) recurs in every issue ("Editor's comments", "Remarks from
#: the editor", "Meeting report", "Abstracts of the 12th annual meeting")
_GENERIC_WORDS = frozenset(
    """editorial editorials editor editors s comment comments commentary remarks remark note notes
    erratum errata correction corrections corrigendum corrigenda reply replies response responses
    letter letters correspondence introduction preface foreword prologue epilogue afterword
    meeting meetings report reports abstract abstracts proceedings session sessions poster posters
    oral presentation presentations news book books review reviews untitled highlights issue
    issues message president presidents chair chairs column columns update updates announcement
    announcements acknowledgement acknowledgements acknowledgment acknowledgments reviewers
    obituary contents table index summary summaries welcome opening address keynote discussion
    annual scientific congress conference symposium workshop supplement special guest invited
    selected society this our year new from to of in on the and a an for by with at""".split()
)
_ORDINAL_RE = re.compile(r"^(\d+(st|nd|rd|th)?|[ivxlc]+)$")
#: a notice about another article repeats that article's title after a label
_NOTICE_RE = re.compile(
    r"^\s*(erratum|errata|corrigendum|correction|retraction(?:\s+note|\s+notice)?|retracted"
    r"(?:\s+article)?|notice\s+of\s+retraction|expression\s+of\s+concern|in\s+reply|"
    r"authors?'?\s*reply|reply|response|comments?|commentary|re)\s*(:|\s(?:to|on|regarding)\b)",
    re.IGNORECASE,
)
_CORPORATE_WORDS = frozenset(
    "organization organisation ministry department agency institute council commission bank programme "
    "program union association society foundation office committee group centre center government "
    "university unesco undp unicef oecd collaborative collaboration consortium investigators inc ltd "
    "pharmaceuticals gmbh".split()
)


def latex_to_unicode(text: str) -> str:
    """``{\\"o}`` -> ``ö``, ``\\textit{x}`` -> ``x``, ``\\&`` -> ``&``, braces and ``$`` dropped."""
    if "\\" not in text and "{" not in text and "$" not in text:
        return text
    text = _ACCENT_RE.sub(lambda m: m.group(2) + _LATEX_ACCENTS[m.group(1)], text)
    text = _LETTER_RE.sub(lambda m: _LATEX_LETTERS[m.group(1)], text)
    text = text.replace("\\&", "&").replace("\\%", "%").replace("\\_", "_")
    text = _COMMAND_RE.sub("", text)
    text = text.replace("{", "").replace("}", "").replace("$", "")
    return unicodedata.normalize("NFC", text)


def clean_markup(text: str | None) -> str:
    """Undo HTML entities (also double-escaped), drop tags like ``<sup>`` and LaTeX markup."""
    if not text:
        return ""
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    if "<" in text:
        text = _TAG_RE.sub("", text)
    return latex_to_unicode(text)


def normalize_title(title: str | None) -> str:
    """A title ready for fuzzy comparison: language tags and translation brackets removed."""
    text = clean_markup(title)
    if "[" in text or "(" in text:  # the regexes below cannot match otherwise: skip them (speed)
        text = _NOTE_RE.sub(" ", text)
    text = text.strip()
    if "[" in text or "(" in text or ":" in text:
        for _ in range(2):
            text = _LANG_TAG_RE.sub("", text).strip()
    if text.startswith("[") and "]" in text:
        end = text.rfind("]")
        text = text[1:end] + text[end + 1 :]
    text = (
        text.replace(">=", " ge ")
        .replace(">or=", " ge ")
        .replace("<=", " le ")
        .replace("<or=", " le ")
    )
    return normalize_text(text)


def is_weak_title(norm_title: str) -> bool:
    """True for titles that say nothing on their own: empty, one word, 'Editorial', 'Reply'."""
    if not norm_title:
        return True
    if norm_title in _WEAK_TITLES:
        return True
    words = norm_title.split()
    if all(w in _GENERIC_WORDS or _ORDINAL_RE.match(w) for w in words):
        return True  # names the kind of item, not its subject
    if len(words) <= 2 and len(norm_title) < 25:
        # one or two words; but a CJK title without spaces is long and informative
        return not (len(norm_title) >= 8 and not norm_title.isascii())
    return False


def notice_kind(title: str | None) -> str:
    """'erratum' for 'Erratum to: <title>', 'reply' for 'Reply to ...', '' for an ordinary title.

    'Response to X' without a colon is left alone ('Response to treatment in ...' is a subject).
    """
    if not title:
        return ""
    head = title.lstrip(" \t\"'[(<").lower()[:3]
    if head not in _NOTICE_HEADS:
        return ""  # fast path: no notice label can start here
    m = _NOTICE_RE.match(clean_markup(title))
    if not m:
        return ""
    kind = m.group(1).lower().split()[0].rstrip("'")
    if kind == "response" and m.group(2) != ":":
        return ""
    return {
        "errata": "erratum",
        "corrigendum": "erratum",
        "correction": "erratum",
        "in": "reply",
        "author": "reply",
        "authors": "reply",
        "retracted": "retraction",
        "notice": "retraction",
        "comments": "comment",
        "commentary": "comment",
        "re": "reply",
    }.get(kind, kind)


_NOTICE_HEADS = frozenset(
    {"err", "cor", "ret", "not", "exp", "in ", "aut", "rep", "res", "com", "re:", "re "}
)
_ENGLISH = frozenset({"en", "eng", "english", "en-us", "en-gb"})


def is_other_language(title: str | None, language: str | None) -> bool:
    """True when a record is (or is a translation of) a non-English publication: a language
    field other than English, a MEDLINE translated title in [brackets], or a language tag."""
    lang = (language or "").strip().lower()
    if lang and lang not in _ENGLISH and not lang.startswith("en"):
        return True
    text = (title or "").strip()
    if text.startswith("[") and "]" in text:
        return True
    tail = text.rstrip(" .")[-1:]
    return bool(text and (tail in "])" or "LA:" in text) and _LANG_TAG_RE.search(text))


def split_authors(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Authors as a list: accepts a list, or a BibTeX ``A and B`` / ``A; B`` string."""
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return [str(a) for a in value if a]
    parts = re.split(r"\s+and\s+|;\s*", value)
    return [p.strip() for p in parts if p.strip()]


def is_corporate(name: str) -> bool:
    words = normalize_text(name).split()
    if any(w in _CORPORATE_WORDS for w in words):
        return True
    return "," not in name and len(words) >= 4


@lru_cache(maxsize=1 << 17)
def author_key(name: str) -> str:
    """A person's surname (``Zhai, Q. J.`` / ``Q. J. Zhai`` -> ``zhai``); an organisation's acronym."""
    name = clean_markup(name).strip()
    if not name:
        return ""
    if is_corporate(name):
        words = [w for w in normalize_text(name).split() if w not in _STOP]
        if len(words) == 1:
            return "org:" + words[0]
        return "org:" + "".join(w[0] for w in words)
    if "," in name:
        surname = name.split(",", 1)[0]
    else:
        toks = name.split()
        surname = toks[-1] if toks else ""
        if len(toks) > 1 and re.fullmatch(r"[A-Z]{1,3}", surname or ""):
            surname = toks[0]  # "Zhai QJ" (Medline/Vancouver style)
    return normalize_text(surname).replace(" ", "")


_PAGES_RE = re.compile(
    r"^\s*([A-Za-z]{0,4})0*(\d+)\s*(?:[-\u2013\u2014]+\s*[A-Za-z]{0,4}0*(\d*))?\s*$"
)


@lru_cache(maxsize=1 << 16)
def page_range(pages: str | None) -> tuple[str, int, int] | None:
    """(prefix, first, last): ``73-76`` -> ('', 73, 76); ``243-5`` -> ('', 243, 245); ``S417-S429``.

    Mangled values seen in real exports (``Suppl-29``, ``t-8``, ``08-Aug``) give None (unknown).
    """
    if not pages:
        return None
    m = _PAGES_RE.match(str(pages))
    if not m:
        return None
    prefix, first, last = m.group(1).lower(), int(m.group(2)), m.group(3)
    end = first
    if last:
        end = int(last)
        if end < first and len(last) < len(m.group(2)):  # 2243-5 -> 2243-2245
            end = int(m.group(2)[: -len(last)] + last)
        if end < first:
            return None
    return prefix, first, end


@lru_cache(maxsize=1 << 17)
def given_key(name: str) -> str:
    """The part after the comma of 'Surname, Given', if it is a whole word ('Ching-yi, Wu' -> 'wu')."""
    if "," not in name:
        return ""
    given = normalize_text(name.split(",", 1)[1]).split()
    return given[0] if given and len(given[0]) > 2 else ""


def first_page(pages: str | None) -> str:
    """The first page as text (``73-76`` -> ``73``; ``S417`` -> ``s417``), or '' when unknown."""
    r = page_range(pages)
    return f"{r[0]}{r[1]}" if r else ""


_DIGITS_RE = re.compile(r"\d+")


def digits(value: str | int | None) -> str:
    if value is None:
        return ""
    m = _DIGITS_RE.search(str(value))
    return m.group(0).lstrip("0") if m else ""


@lru_cache(maxsize=1 << 15)
def normalize_venue(venue: str | None) -> str:
    text = normalize_title(venue)
    return " ".join(w for w in text.split() if w not in _STOP)


def normalize_isbn(value: str | None) -> str:
    text = re.sub(r"[^0-9Xx]", "", value or "").upper()
    return text if len(text) in (10, 13) else ""


def normalize_pmid(value: str | None) -> str:
    return _normalize_pmid(value) or ""


def normalize_openalex(value: str | None) -> str:
    m = re.search(r"W\d+", value or "", re.IGNORECASE)
    return m.group(0).upper() if m else ""


@dataclass(frozen=True, slots=True)
class Features:
    """What matching needs from one record, normalised once."""

    rid: int
    title: str
    title_weak: bool
    authors: tuple[str, ...]
    authors_alt: tuple[str, ...]  # the other half of 'Surname, Given' in case they were swapped
    year: int | None
    page: str
    pages: tuple[str, int, int] | None
    volume: str
    issue: str
    venue: str
    doi: str
    pmid: str
    record_type: str
    url: str = ""  # web address of a gray-literature page (two different pages veto a merge)
    text_head: str = ""  # start of the normalised abstract/text, to tell such pages apart
    notice: str = ""  # 'erratum', 'reply', 'comment', 'retraction': a notice about another article
    other_language: bool = False  # non-English (or a translated title): titles may not agree


def features(
    rid: int,
    *,
    title: str | None,
    authors: str | list[str] | tuple[str, ...] | None = None,
    year: int | str | None = None,
    pages: str | None = None,
    volume: str | None = None,
    issue: str | None = None,
    venue: str | None = None,
    doi: str | None = None,
    pmid: str | None = None,
    record_type: str | None = None,
    url: str | None = None,
    text: str | None = None,
    language: str | None = None,
) -> Features:
    notice = notice_kind(title)
    if notice:  # compare what the notice is about: 'Erratum: X' and an 'X' on its page
        m = _NOTICE_RE.match(clean_markup(title))
        title = clean_markup(title)[m.end() :] if m else title
    t = normalize_title(title)
    y = digits(year)
    names = split_authors(authors)
    keys = tuple(k for k in (author_key(a) for a in names) if k)
    alt = tuple(k for k in (given_key(a) for a in names) if k)
    prange = page_range(pages)
    return Features(
        rid=rid,
        title=t,
        title_weak=is_weak_title(t),
        authors=keys,
        authors_alt=alt,
        year=int(y) if y and 1000 < int(y) < 3000 else None,
        page=f"{prange[0]}{prange[1]}" if prange else "",
        pages=prange,
        volume=digits(volume),
        issue=digits(issue),
        venue=normalize_venue(venue),
        doi=normalize_doi(doi) or "",
        pmid=normalize_pmid(pmid),
        record_type=(record_type or "").lower(),
        url=(url or "").strip().rstrip("/").lower() if (url or "").startswith("http") else "",
        text_head=normalize_text(text)[:400] if text else "",
        notice=notice,
        other_language=is_other_language(title, language),
    )
