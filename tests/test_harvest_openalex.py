"""OpenAlex harvests: the real pyalex path against a local HTTP server serving a real response."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from review.cli import cli
from review.errors import HarvestError
from review.harvest.openalex import (
    Settings,
    harvest,
    harvest_source,
    query_text,
    rebuild_abstract,
    work_to_record,
)
from review.models import Source
from review.store.records import count_records, searches, update_search

DATA = Path(__file__).parent / "data" / "openalex"
WORKS: list[dict[str, Any]] = json.loads((DATA / "works-search-page.json").read_text("utf-8"))[
    "results"
]
PAGE = 10  # the server's page size: 49 works -> pages of 10,10,10,10,9 then an empty last page


@dataclass
class ServerState:
    fail_once: dict[int, int] = field(default_factory=dict)  # page index -> status, served once
    fail_from: int | None = None  # page index from which every request gets a 500
    delay_once: dict[int, float] = field(default_factory=dict)  # page index -> seconds, once
    require_key: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    raw: tuple[int, str, bytes] | None = None  # (status, content type, body) for every request
    delay_all: float = 0.0  # seconds before every answer


def _cursor(i: int) -> str:
    return "*" if i == 0 else f"c{i}"


class _Handler(BaseHTTPRequestHandler):
    state: ServerState

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        st = self.state
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        st.requests.append({"path": url.path, "query": q, "headers": dict(self.headers)})
        if st.delay_all:
            time.sleep(st.delay_all)
        if st.raw is not None:
            status, ctype, body = st.raw
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        if st.require_key and self.headers.get("Authorization") != f"Bearer {st.require_key}":
            return self._send(401, {"error": "Invalid or missing API key", "message": "..."})
        cur = q.get("cursor", "")
        idx = 0 if cur == "*" else int(cur[1:]) if cur.startswith("c") else -1
        if url.path != "/works" or idx < 0:
            return self._send(400, {"error": "Invalid query parameters", "message": cur})
        if st.fail_from is not None and idx >= st.fail_from:
            return self._send(500, {"error": "boom"})
        if idx in st.delay_once:
            time.sleep(st.delay_once.pop(idx))
        if idx in st.fail_once:
            return self._send(st.fail_once.pop(idx), {"error": "try again"})
        chunk = WORKS[idx * PAGE : (idx + 1) * PAGE]
        nxt = _cursor(idx + 1) if chunk else None
        meta = {"count": len(WORKS), "per_page": PAGE, "page": None, "next_cursor": nxt}
        self._send(200, {"meta": meta, "results": chunk, "group_by": []})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerState]:
    state = ServerState()
    handler = type("H", (_Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    for k, v in {
        "REVIEW_OPENALEX_URL": url,
        "REVIEW_OPENALEX_RETRIES": "3",
        "REVIEW_OPENALEX_BACKOFF": "0.001",
        "REVIEW_OPENALEX_TIMEOUT": "5",
        "OPENALEX_API_KEY": "test-key",
        "OPENALEX_EMAIL": "reviewer@example.org",
    }.items():
        monkeypatch.setenv(k, v)
    yield state
    httpd.shutdown()
    httpd.server_close()


def _work_requests(state: ServerState) -> list[dict[str, Any]]:
    return [r for r in state.requests if r["path"] == "/works"]


# -- mapping ---------------------------------------------------------------------------------


def test_rebuild_abstract_orders_words_by_position():
    assert rebuild_abstract({"world": [1], "hello": [0, 2]}) == "hello world hello"
    assert rebuild_abstract(None) is None
    assert rebuild_abstract({}) is None
    assert rebuild_abstract({"a": [0], "b": [2], "c": []}) == "a b"  # gaps and empty lists


def test_work_to_record_maps_the_real_work():
    w = WORKS[0]
    rec = work_to_record(w)
    assert rec.title and rec.title.startswith("Redefining climate regions")
    assert rec.doi == "10.4081/gh.2014.294"
    assert rec.openalex_id == "W2068311567"
    assert rec.source_record_id == "https://openalex.org/W2068311567"
    assert rec.venue == "Geospatial Health"
    assert rec.year == 2014 and rec.language == "en" and rec.record_type == "article"
    assert rec.authors[0] == "Alexander Liss"
    assert {"SK", "US"} <= set(rec.affiliation_countries)
    assert rec.keywords == ("Exposure Assessment",)
    assert "Remote sensing" in rec.extra["concepts"]
    assert rec.extra["topics"][0] == "Impact of Climate Change on Human Health"
    assert rec.raw is w and rec.raw_format == "openalex-json"
    words = rec.abstract.split() if rec.abstract else []
    inv = w["abstract_inverted_index"]
    assert len(words) == sum(len(p) for p in inv.values())
    first = min(inv, key=lambda k: min(inv[k]))
    assert words[0] == first


def test_work_to_record_rejects_non_work():
    with pytest.raises(HarvestError):
        work_to_record({"title": "no id"})


def test_query_text_has_search_and_filters(ws):
    src = ws.require_protocol().source("OpenAlex")
    text = query_text(src)
    assert text.startswith("smart city governance | filter: publication_year:2010-2025")
    assert "authorships.institutions.country_code:AO|BW" in text


# -- harvest through pyalex against the local server -------------------------------------------


def test_harvest_real_pyalex_path_with_429_and_500(ws, server):
    server.fail_once = {1: 429, 3: 500}
    [res] = harvest(ws)
    assert res.status == "complete" and res.stored == 49 and res.records_found == 49
    assert count_records(ws) == 49
    reqs = _work_requests(server)
    assert [r["query"]["cursor"] for r in reqs] == ["*", "c1", "c1", "c2", "c3", "c3", "c4", "c5"]
    q = reqs[0]["query"]
    assert q["search"] == "smart city governance" and q["per-page"] == "200"
    assert "publication_year:2010-2025" in q["filter"]
    assert "authorships.institutions.country_code:AO|BW|KM" in q["filter"]
    assert reqs[0]["headers"]["Authorization"] == "Bearer test-key"
    assert reqs[0]["headers"]["From"] == "reviewer@example.org"

    [row] = searches(ws)
    assert row["kind"] == "openalex" and row["arm"] == "databases" and row["tool"] == "pyalex"
    assert row["tool_version"] and row["status"] == "complete"
    assert row["records_found"] == 49 and row["records_stored"] == 49
    assert row["query"].startswith("smart city governance | filter:")

    za = ws.db.execute(
        "SELECT COUNT(*) FROM records WHERE affiliation_countries LIKE '%\"ZA\"%'"
    ).fetchone()[0]
    assert za >= 1
    r = next(ws.db.query("SELECT * FROM records WHERE openalex_id = 'W2068311567'"))
    assert r["doi"] == "10.4081/gh.2014.294" and r["abstract"] and r["work_id"]
    assert json.loads(r["raw"])["id"] == "https://openalex.org/W2068311567"
    n_abstracts = ws.db.execute(
        "SELECT COUNT(*) FROM records WHERE abstract IS NOT NULL"
    ).fetchone()[0]
    assert n_abstracts == sum(1 for w in WORKS if w.get("abstract_inverted_index"))


def test_failure_midway_then_resume_without_duplicates(ws, server):
    server.fail_from = 2  # pages 0 and 1 succeed, then 500 for ever
    with pytest.raises(HarvestError, match="resume"):
        harvest(ws)
    [row] = searches(ws)
    assert row["status"] == "failed" and row["cursor"] == "c2" and row["records_stored"] == 20
    assert count_records(ws) == 20

    server.fail_from = None
    server.requests.clear()
    [res] = harvest(ws)
    assert res.resumed_from == "c2" and res.search_id == row["id"]
    assert _work_requests(server)[0]["query"]["cursor"] == "c2"
    assert res.status == "complete" and res.stored == 49
    assert count_records(ws) == 49
    assert ws.db.execute("SELECT COUNT(DISTINCT source_record_id) FROM records").fetchone()[0] == 49
    [row] = searches(ws)
    assert row["status"] == "complete" and row["records_stored"] == 49 and "resumed" in row["notes"]

    # re-running a finished query logs a new search and stores nothing new
    [again] = harvest(ws)
    assert again.search_id != row["id"] and again.stored == 0 and again.fetched == 49
    rows = searches(ws)
    assert len(rows) == 2 and rows[1]["records_found"] == 49 and rows[1]["records_stored"] == 0
    assert count_records(ws) == 49


def test_timeout_is_retried(ws, server, monkeypatch):
    monkeypatch.setenv("REVIEW_OPENALEX_TIMEOUT", "0.3")
    server.delay_once = {2: 1.0}
    [res] = harvest(ws)
    assert res.status == "complete" and count_records(ws) == 49
    cursors = [r["query"]["cursor"] for r in _work_requests(server)]
    assert cursors.count("c2") == 2


def test_non_json_response_is_shown_not_blamed_on_retries(ws, server):
    server.raw = (200, "text/html", b"<html><body>Service under maintenance</body></html>")
    with pytest.raises(HarvestError) as e:
        harvest(ws)
    msg = str(e.value)
    assert "not JSON" in msg and "Service under maintenance" in msg and "text/html" in msg
    assert "retries" not in msg
    assert len(_work_requests(server)) == 1


def test_wrong_shaped_json_is_not_blamed_on_the_query(ws, server):
    server.raw = (200, "application/json", b'{"status": "ok", "items": []}')
    with pytest.raises(HarvestError) as e:
        harvest(ws)
    msg = str(e.value)
    assert "rejected the query" not in msg
    assert "unexpected" in msg and '{"status": "ok", "items": []}' in msg


def test_timeouts_say_timed_out_and_count_attempts(ws, server, monkeypatch):
    monkeypatch.setenv("REVIEW_OPENALEX_TIMEOUT", "0.2")
    server.delay_all = 0.6
    with pytest.raises(HarvestError) as e:
        harvest(ws)
    msg = str(e.value)
    assert "timed out after 0.2 s" in msg and "4 attempts" in msg  # 1 + 3 retries


def test_server_errors_count_the_attempts_made(ws, server):
    server.fail_from = 0
    with pytest.raises(HarvestError) as e:
        harvest(ws)
    assert "after 4 attempts" in str(e.value) and "HTTP 500" in str(e.value)
    assert len(_work_requests(server)) == 4


def test_bad_request_is_not_retried_and_names_the_status(ws, server):
    server.fail_once = {0: 404}
    with pytest.raises(HarvestError, match="HTTP 404"):
        harvest_source(ws, Source(name="Only search", kind="openalex", arm="databases", search="x"))
    assert len(_work_requests(server)) == 1
    [row] = searches(ws)
    assert row["status"] == "failed" and row["source"] == "Only search" and row["query"] == "x"


def test_ctrl_c_marks_interrupted_and_resumes(ws, server):
    def progress(source, fetched, total):
        if fetched == 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        harvest(ws, progress=progress)
    [row] = searches(ws)
    assert row["status"] == "interrupted" and row["cursor"] == "c3" and count_records(ws) == 30
    [res] = harvest(ws)
    assert res.resumed_from == "c3" and count_records(ws) == 49


def test_killed_run_left_running_is_resumed(ws, server):
    server.fail_from = 3
    with pytest.raises(HarvestError):
        harvest(ws)
    sid = searches(ws)[0]["id"]
    update_search(ws, sid, status="running", finished_at=None)  # as a `kill -9` leaves it
    server.fail_from = None
    [res] = harvest(ws)
    assert res.search_id == sid and res.resumed_from == "c3" and count_records(ws) == 49


def test_max_caps_the_harvest(ws, server):
    [res] = harvest(ws, max_works=15)
    assert res.fetched == 15 and count_records(ws) == 15 and res.status == "complete"


def test_unauthorised_says_what_to_set(ws, server, monkeypatch):
    server.require_key = "right-key"
    monkeypatch.delenv("OPENALEX_API_KEY")
    with pytest.raises(HarvestError, match="set OPENALEX_API_KEY"):
        harvest(ws, settings=Settings.from_env())
    assert searches(ws)[0]["status"] == "failed" and count_records(ws) == 0


def test_unknown_source_name(ws):
    with pytest.raises(HarvestError, match="no OpenAlex source named 'Nope'"):
        harvest(ws, source="Nope")


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_harvest_then_rerun(db_path, server):
    server.fail_once = {0: 429, 2: 500}
    runner = CliRunner()
    r = runner.invoke(cli, ["harvest", "openalex", "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "OpenAlex: 49 found, 49 fetched, 49 new records stored" in r.output
    r = runner.invoke(
        cli, ["harvest", "openalex", "--source", "OpenAlex", "--json", "--db", db_path]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out[0]["stored"] == 0 and out[0]["records_found"] == 49
    r = runner.invoke(cli, ["searches", "--json", "--db", db_path])
    rows = json.loads(r.stdout)
    assert [x["records_stored"] for x in rows] == [49, 0]


def test_cli_401_exits_non_zero_with_hint(db_path, server):
    server.require_key = "right-key"
    r = CliRunner().invoke(
        cli, ["harvest", "openalex", "--db", db_path], env={"OPENALEX_API_KEY": "wrong"}
    )
    assert r.exit_code != 0
    assert "HTTP 401" in r.output and "OPENALEX_API_KEY" in r.output
