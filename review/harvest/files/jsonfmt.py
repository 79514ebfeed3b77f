"""JSON: an OpenAlex ``/works`` response, a list of OpenAlex works, or plain records (a JSON list
or JSON lines of objects with a ``title``, like ``corpora/sadc-smart-cities/academic.jsonl``)."""

from __future__ import annotations

import json
from typing import Any

from ...errors import FormatError
from ...models import Record
from .common import as_list, clean, doi_of, first, make_record, split_authors


def looks_like(text: str) -> bool:
    return text.lstrip()[:1] in {"{", "["}


def is_openalex_work(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and str(obj.get("id", "")).startswith(("https://openalex.org/W", "W"))
        and ("display_name" in obj or "title" in obj)
    )


def openalex_record(w: dict[str, Any]) -> Record:
    """The same mapping the OpenAlex harvester uses, so file and API records match."""
    from ..openalex_map import work_to_record

    return work_to_record(w)


_PLAIN_KEYS = {
    "title": ("title", "display_name", "name"),
    "abstract": ("abstract", "summary", "description"),
    "authors": ("authors", "author", "creators"),
    "year": ("year", "publication_year", "date", "published"),
    "doi": ("doi",),
    "venue": ("venue", "journal", "container_title", "container-title", "source", "publication"),
    "url": ("url", "article_url", "link"),
    "record_type": ("record_type", "type", "entrytype"),
    "language": ("language", "lang"),
    "id": ("id", "record_id", "uid", "ID", "key"),
}


def plain_record(obj: dict[str, Any]) -> Record:
    def get(field: str) -> Any:
        return first(*[obj.get(k) for k in _PLAIN_KEYS[field]])

    authors = get("authors")
    if isinstance(authors, list):
        authors = [
            a.get("name") or a.get("display_name") if isinstance(a, dict) else a for a in authors
        ]
    venue = get("venue")
    if isinstance(venue, dict):
        venue = venue.get("display_name") or venue.get("name")
    rid = get("id")
    return make_record(
        title=get("title"),
        abstract=get("abstract"),
        authors=split_authors(authors),
        year=get("year"),
        doi=doi_of(get("doi"), get("url")),
        venue=venue,
        url=get("url"),
        record_type=get("record_type"),
        language=get("language"),
        volume=obj.get("volume"),
        issue=obj.get("issue"),
        pages=obj.get("pages"),
        keywords=as_list(obj.get("keywords")),
        affiliation_countries=as_list(
            first(obj.get("affiliation_countries"), obj.get("countries"))
        ),
        source_record_id=str(rid) if rid not in (None, "") else None,
        raw=obj,
        raw_format="json",
    )


def _items(text: str, path: str) -> tuple[list[Any], list[str], bool]:
    """(objects, where each is, openalex?) from JSON or JSON lines."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        lines = text.split("\n")
        if sum(1 for ln in lines if ln.strip()) < 2:
            raise FormatError(f"invalid JSON ({e.msg})", path=path, where=f"line {e.lineno}") from e
        objs, nums = [], []
        for i, ln in enumerate(lines, 1):
            if not ln.strip():
                continue
            try:
                objs.append(json.loads(ln))
            except json.JSONDecodeError as e2:
                raise FormatError(
                    f"invalid JSON line ({e2.msg})", path=path, where=f"line {i}"
                ) from e2
            nums.append(f"line {i}")
        return objs, nums, False
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        items = data["results"]
        if not all(is_openalex_work(w) for w in items):
            bad = next(i for i, w in enumerate(items, 1) if not is_openalex_work(w))
            raise FormatError("not an OpenAlex work", path=path, where=f"results[{bad - 1}]")
        return items, [f"results[{i}]" for i in range(len(items))], True
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise FormatError(
            "JSON is neither an OpenAlex /works response nor a list of records", path=path
        )
    return data, [f"record {i}" for i in range(1, len(data) + 1)], False


def read(text: str, path: str) -> tuple[list[Record], str]:
    items, nums, openalex = _items(text, path)
    if not items:
        raise FormatError("no records in JSON", path=path)
    if openalex or all(is_openalex_work(w) for w in items):
        return [openalex_record(w) for w in items], "openalex"
    records = []
    for obj, where in zip(items, nums, strict=True):
        if not isinstance(obj, dict):
            raise FormatError("not a record object", path=path, where=where)
        if not clean(first(*[obj.get(k) for k in _PLAIN_KEYS["title"]])):
            raise FormatError(
                "record has no title: JSON is neither OpenAlex nor a list of records",
                path=path,
                where=where,
            )
        records.append(plain_record(obj))
    return records, "json"
