"""Harvest the protocol's OpenAlex sources with pyalex's cursor paging, resumably, with a search log.

Configuration (environment):

- ``OPENALEX_API_KEY``: sent by pyalex as ``Authorization: Bearer``; a 401/403 asks for it.
- ``OPENALEX_EMAIL``: contact address (pyalex's ``From`` header, the polite pool).
- ``REVIEW_OPENALEX_URL`` (default ``https://api.openalex.org``): a mirror, proxy or test server.
  pyalex 0.21 builds every URL on ``https://api.openalex.org`` whatever ``config.openalex_url``
  says, so we set ``pyalex.config.openalex_url`` (for versions that honour it) AND give pyalex's
  paginator our own ``requests.Session`` (``_OpenAlexSession``) that rewrites that prefix to the
  configured base URL. The same session carries the retries and the timeout.
- ``REVIEW_OPENALEX_RETRIES`` (5), ``REVIEW_OPENALEX_BACKOFF`` (1.0 s, doubled per retry),
  ``REVIEW_OPENALEX_TIMEOUT`` (30 s): retries on 429/500/502/503/504, connection errors and timeouts.

Every page is stored in one transaction together with the cursor of the next page, so a run that
stops (Ctrl-C, kill, network error) resumes from the stored cursor of the latest unfinished search
for the same source and query, and ``add_records`` skips OpenAlex IDs already stored.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import HarvestError
from ..models import Source
from ..store import Workspace, now
from ..store.records import add_records, finish_search, searches, start_search, update_search
from .openalex_http import DEFAULT_URL, RETRY_CODES, _failure, _looked_like, _reason, make_session
from .openalex_map import rebuild_abstract, work_to_record

__all__ = [
    "DEFAULT_URL",
    "HarvestResult",
    "Settings",
    "harvest",
    "harvest_source",
    "query_text",
    "rebuild_abstract",
    "work_to_record",
]

PER_PAGE = 200

Progress = Callable[[Source, int, int | None], None]
"""progress(source, works fetched so far in this search, meta.count or None)."""


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_URL
    api_key: str | None = None
    email: str | None = None
    max_retries: int = 5
    backoff: float = 1.0
    timeout: float = 30.0
    per_page: int = PER_PAGE

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def num(name: str, default: float) -> float:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                return float(raw)
            except ValueError:
                raise HarvestError(f"{name} must be a number, got {raw!r}")

        return cls(
            base_url=(env.get("REVIEW_OPENALEX_URL") or DEFAULT_URL).rstrip("/"),
            api_key=env.get("OPENALEX_API_KEY") or None,
            email=env.get("OPENALEX_EMAIL") or None,
            max_retries=int(num("REVIEW_OPENALEX_RETRIES", 5)),
            backoff=num("REVIEW_OPENALEX_BACKOFF", 1.0),
            timeout=num("REVIEW_OPENALEX_TIMEOUT", 30.0),
        )


@dataclass(frozen=True)
class HarvestResult:
    source: str
    search_id: int
    query: str
    records_found: int | None
    fetched: int  # works received in this search (all runs of it)
    stored: int  # new records stored by this search
    resumed_from: str | None  # the cursor a resumed search continued from
    status: str


def query_text(source: Source) -> str:
    """The search string plus filters as one line, as logged in ``searches.query``."""
    parts = []
    if source.search:
        parts.append(source.search)
    if source.filter:
        parts.append(
            "filter: " + ", ".join(f"{k}:{_filter_value(v)}" for k, v in source.filter.items())
        )
    return " | ".join(parts)


def _filter_value(v: Any) -> Any:
    # a TOML list means "any of" (OpenAlex's OR, `a|b`), not pyalex's AND (`a+b`)
    if isinstance(v, list | tuple):
        return "|".join(str(x) for x in v)
    if isinstance(v, bool):
        return str(v).lower()
    return v


def configure_pyalex(settings: Settings) -> Any:
    """Set ``pyalex.config`` from the settings; returns the pyalex module."""
    import pyalex

    cfg = pyalex.config
    cfg.api_key = settings.api_key
    cfg.email = settings.email
    cfg.openalex_url = settings.base_url
    cfg.max_retries = settings.max_retries
    cfg.retry_backoff_factor = settings.backoff
    cfg.retry_http_codes = list(RETRY_CODES)
    return pyalex


def _resumable(ws: Workspace, source: Source, query: str) -> dict[str, Any] | None:
    """The latest search of this source+query if it did not complete (it is resumed)."""
    latest = None
    for row in searches(ws):
        if row["kind"] == "openalex" and row["source"] == source.name and row["query"] == query:
            latest = row
    if latest is not None and latest["status"] != "complete":
        return latest
    return None


def harvest_source(
    ws: Workspace,
    source: Source,
    *,
    max_works: int | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> HarvestResult:
    """Harvest one OpenAlex source; resumes its latest unfinished search if there is one.

    Holds the source's harvest lock for the whole run: a second harvest of the same source
    (another process) refuses with ``LockHeld`` instead of writing into the same search row;
    the lock of a crashed run (its process is gone) is taken over (store/locks.py)."""
    from ..store import locks

    with locks.hold(
        ws,
        locks.harvest_lock("openalex", source.name),
        command="review harvest openalex",
        what=f"a harvest of source {source.name!r}",
    ):
        return _harvest_source(
            ws, source, max_works=max_works, settings=settings, progress=progress
        )


def _harvest_source(
    ws: Workspace,
    source: Source,
    *,
    max_works: int | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> HarvestResult:
    import requests

    settings = settings or Settings.from_env()
    if not source.search and not source.filter:
        raise HarvestError(f"OpenAlex source {source.name!r} has neither search nor filter")
    pyalex = configure_pyalex(settings)
    query = query_text(source)
    prev = _resumable(ws, source, query)
    if prev is not None:
        sid = int(prev["id"])
        start_cursor = prev["cursor"] or "*"
        resumed_from: str | None = start_cursor
        fetched = stored = ws.db["records"].count_where("search_id = ?", [sid])
        found = prev["records_found"]
        note = f"{prev['notes'] + chr(10) if prev['notes'] else ''}resumed {now()} at cursor {start_cursor}"
        update_search(ws, sid, status="running", finished_at=None, notes=note)
    else:
        sid = start_search(
            ws,
            source=source.name,
            arm=source.arm,
            kind="openalex",
            query=query,
            tool="pyalex",
            tool_version=getattr(pyalex, "__version__", None),
            params={
                "search": source.search,
                "filter": source.filter,
                "url": settings.base_url,
                "per_page": settings.per_page,
                "max": max_works,
            },
        )
        start_cursor, resumed_from, fetched, stored, found = "*", None, 0, 0, None
    ws.db.conn.commit()

    remaining = None if max_works is None else max(max_works - fetched, 0)
    status = "failed"
    session: Any = None
    try:
        if remaining == 0:
            status = "complete"
        else:
            q = pyalex.Works()
            if source.search:
                q = q.search(source.search)
            if source.filter:
                q = q.filter(**{k: _filter_value(v) for k, v in source.filter.items()})
            pages = q.paginate(
                method="cursor", cursor=start_cursor, per_page=settings.per_page, n_max=remaining
            )
            if not hasattr(pages, "_session"):  # pragma: no cover - other pyalex versions
                raise HarvestError(f"unsupported pyalex version {pyalex.__version__}")
            session = make_session(settings)
            pages._session = session
            if progress:
                progress(source, fetched, found)
            for page in pages:
                meta = page.meta or {}
                found = meta.get("count", found)
                works = list(page)
                if max_works is not None:  # the last page may overshoot --max
                    works = works[: max(max_works - fetched, 0)]
                records = []
                for i, w in enumerate(works):
                    try:
                        records.append(work_to_record(dict(w)))
                    except HarvestError as e:
                        raise HarvestError(
                            f"{e.message} (work {i + 1} of the page after cursor {start_cursor})",
                            path=settings.base_url,
                        )
                with ws.transaction():
                    ids = add_records(ws, sid, records)
                    update_search(ws, sid, cursor=meta.get("next_cursor"), records_found=found)
                fetched += len(works)
                stored += len(ids)
                start_cursor = meta.get("next_cursor")
                if progress:
                    progress(source, fetched, found)
            status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except HarvestError:
        raise
    except requests.HTTPError as e:  # a status we do not retry (400, 404, ...)
        raise HarvestError(
            f"OpenAlex answered {_reason(e)} for the query {query!r}",
            path=settings.base_url,
        )
    except requests.JSONDecodeError:  # before RequestException: it is one, but nothing failed
        raise HarvestError(
            f"OpenAlex sent a response that is not JSON ({_looked_like(session)}); "
            "is REVIEW_OPENALEX_URL an OpenAlex API?",
            path=settings.base_url,
        )
    except requests.RequestException as e:  # retries used up: 429/5xx, timeouts, no connection
        n = session.attempts if session is not None else 1
        raise HarvestError(
            f"OpenAlex request failed after {n} attempt{'s' if n != 1 else ''} "
            f"({_failure(e, settings)}); run the harvest again to resume",
            path=settings.base_url,
        )
    except pyalex.api.QueryError as e:  # OpenAlex's own word on the query
        raise HarvestError(f"OpenAlex rejected the query {query!r}: {e}", path=settings.base_url)
    except (ValueError, KeyError, TypeError) as e:  # a JSON answer of the wrong shape
        raise HarvestError(
            f"OpenAlex sent an unexpected response ({type(e).__name__}: {e}); it looked like: "
            f"{_looked_like(session)}",
            path=settings.base_url,
        )
    finally:
        finish_search(ws, sid, records_found=found, records_stored=stored, status=status)
        ws.db.conn.commit()
    return HarvestResult(source.name, sid, query, found, fetched, stored, resumed_from, status)


def openalex_sources(ws: Workspace, name: str | None = None) -> list[Source]:
    """The protocol's sources of kind 'openalex' (or the one named ``name``)."""
    proto = ws.require_protocol()
    found = [s for s in proto.sources if s.kind == "openalex"]
    if name is not None:
        chosen = [s for s in found if s.name == name]
        if not chosen:
            names = ", ".join(repr(s.name) for s in found) or "none"
            raise HarvestError(
                f"no OpenAlex source named {name!r} in the protocol (OpenAlex sources: {names})"
            )
        return chosen
    if not found:
        raise HarvestError(
            'the protocol has no source with kind = "openalex"; add one with search and filter',
            path=proto.path,
        )
    return found


def harvest(
    ws: Workspace,
    *,
    source: str | None = None,
    max_works: int | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> list[HarvestResult]:
    """Run every OpenAlex source of the protocol (or the one named ``source``)."""
    settings = settings or Settings.from_env()
    return [
        harvest_source(ws, s, max_works=max_works, settings=settings, progress=progress)
        for s in openalex_sources(ws, source)
    ]
