"""HTTP for OpenAlex harvests: the requests session (retries, timeout, URL rewrite) and honest
failure messages (attempts actually made, "timed out after N s", what a bad answer looked like)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import HarvestError

if TYPE_CHECKING:
    from .openalex import Settings

DEFAULT_URL = "https://api.openalex.org"
RETRY_CODES = (429, 500, 502, 503, 504)


def make_session(settings: Settings) -> Any:
    """A requests Session with retries/backoff, a timeout and the REVIEW_OPENALEX_URL rewrite."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    counter = {"retries": 0}

    class _CountingRetry(Retry):  # type: ignore[misc]
        """urllib3 retries happen below requests: count them so messages say what was tried."""

        def increment(self, *args: Any, **kwargs: Any) -> Any:
            counter["retries"] += 1
            return super().increment(*args, **kwargs)

    class _OpenAlexSession(requests.Session):
        attempts = 0  # requests actually sent for the last call (1 + retries)
        last_response: Any = None

        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
            u = url.decode() if isinstance(url, bytes) else url
            if settings.base_url != DEFAULT_URL and u.startswith(DEFAULT_URL):
                u = settings.base_url + u[len(DEFAULT_URL) :]
            kwargs.setdefault("timeout", settings.timeout)
            counter["retries"] = 0
            try:
                resp = super().request(method, u, *args, **kwargs)
            finally:
                # the last increment raises when retries are used up: it sent no new request
                self.attempts = min(counter["retries"], settings.max_retries) + 1
            self.last_response = resp
            if resp.status_code in (401, 403):
                what = (
                    "the key in OPENALEX_API_KEY was rejected; check it"
                    if settings.api_key
                    else "set OPENALEX_API_KEY to your OpenAlex API key (free at openalex.org)"
                )
                raise HarvestError(
                    f"OpenAlex refused the request (HTTP {resp.status_code}): {what}",
                    path=settings.base_url,
                )
            return resp

    retry = _CountingRetry(
        total=settings.max_retries,
        backoff_factor=settings.backoff,
        status_forcelist=RETRY_CODES,
        allowed_methods={"GET"},
    )
    session = _OpenAlexSession()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _failure(e: Exception, settings: Settings) -> str:
    """'timed out after 30 s', 'HTTP 503: ...', 'cannot connect: ...' - never '(Cause...)'."""
    import requests

    cause: Any = e.args[0] if e.args else None
    reason = getattr(cause, "reason", None)
    text = f"{e} {reason}"
    if isinstance(e, requests.Timeout) or "timed out" in text.lower() or "timeout" in text.lower():
        return f"timed out after {settings.timeout:g} s"
    if isinstance(e, requests.exceptions.RetryError) or "too many" in text.lower():
        m = re.search(r"too many (\d{3}) error", text)
        return f"HTTP {m.group(1)} each time" if m else "the server kept failing"
    if isinstance(e, requests.ConnectionError):
        return f"cannot connect: {reason or e}"[:200]
    return _reason(e)


def _looked_like(session: Any) -> str:
    resp = getattr(session, "last_response", None)
    if resp is None:
        return "no response kept"
    body = " ".join((resp.text or "").split())
    body = body if len(body) <= 200 else body[:197] + "..."
    ctype = resp.headers.get("Content-Type", "no content type")
    return f"HTTP {resp.status_code}, {ctype}: {body!r}"


def _reason(e: Exception) -> str:
    text = str(e)
    resp = getattr(e, "response", None)
    if resp is not None:
        text = f"HTTP {resp.status_code}: {resp.text.strip()[:200]}"
    return text if len(text) < 300 else text[:297] + "..."
