"""The guard in front of every route, pages included: the token (``Authorization: Bearer``, a ``token`` query
parameter, or the cookie set from it), compared in constant time; read-only mode, which refuses every action; and
the refusal of an action a browser sends from a page of another site."""

from __future__ import annotations

import hashlib
import hmac
from http.cookies import SimpleCookie

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["COOKIE", "Guard"]

#: the cookie a browser keeps once it opened a page with ``?token=``: it holds a digest of the token, never the token
COOKIE = "queuekit_token"
#: the methods that read (every other is an action)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _digest(token: str) -> str:
    return hmac.new(token.encode(), b"queuekit dashboard cookie", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class Guard:
    """ASGI middleware: 401 without the token (when there is one), 403 for an action in read-only mode."""

    def __init__(self, app: ASGIApp, token: str | None, read_only: bool) -> None:
        self.app = app
        self.token = token
        self.cookie = _digest(token) if token is not None else ""
        self.read_only = read_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the app has no websocket route (Starlette refuses them)
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        if self.token is not None:
            how = self._credential(conn)
            if how is None:
                await _refuse(401, "token: missing or wrong; send the header Authorization: Bearer <token> or the "
                                   "query parameter token=<token>")(scope, receive, send)
                return
            if how == "query":
                send = self._setting_cookie(send, scope.get("root_path") or "/")
        if scope.get("method", "GET") not in SAFE_METHODS:
            refusal = self._refusal(conn)
            if refusal:
                await _refuse(403, refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, conn: HTTPConnection) -> str:
        """Why an action is refused ("" if it is not): read-only mode, or a browser sending it from another site
        (a page elsewhere could otherwise make the operator's browser post to a dashboard on 127.0.0.1)."""
        if self.read_only:
            return "read_only: this dashboard is read-only; no action is taken"
        if _cross_site(conn):
            return f"origin: an action sent by a page of {conn.headers.get('origin', 'another site')!r} is refused"
        return ""

    def _credential(self, conn: HTTPConnection) -> str | None:
        """How the request proved it holds the token ("header", "query", "cookie"), or None."""
        token = self.token or ""
        scheme, _, given = conn.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and _same(given.strip(), token):
            return "header"
        if "token" in conn.query_params and _same(conn.query_params["token"], token):
            return "query"
        if _same(conn.cookies.get(COOKIE, ""), self.cookie):
            return "cookie"
        return None

    def _setting_cookie(self, send: Send, path: str) -> Send:
        """``send`` adding the cookie to the response, so the page's own requests need no token in their URL."""
        cookie: SimpleCookie = SimpleCookie()
        cookie[COOKIE] = self.cookie
        cookie[COOKIE]["path"] = path
        cookie[COOKIE]["httponly"] = True
        cookie[COOKIE]["samesite"] = "Strict"
        header = cookie.output(header="").strip().encode("latin-1")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", header)]}
            await send(message)

        return sending


def _refuse(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _cross_site(conn: HTTPConnection) -> bool:
    """True when a browser sent the request from a page of another origin. Browsers say so in Sec-Fetch-Site (right
    behind a proxy that rewrites Host too); older ones send only Origin, compared with Host or X-Forwarded-Host.
    A client that sends neither (a script, Kue's clients) is no browser acting for someone else."""
    fetch_site = conn.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = conn.headers.get("origin")
    if origin is None:
        return False
    host = origin.partition("://")[2].rstrip("/")
    return host not in (conn.headers.get("host"), conn.headers.get("x-forwarded-host"))
