"""The API's routes: `create_app(catalog, tokens)` is the ASGI application `drill api` serves.

Every route but the badges takes a bearer token (drills.tokens) and reads through its scope,
as the dashboard reads through a user's (drills.fleet): a site outside it answers exactly as a
site that does not exist (404, one body for both). One write: an operator's "drill now",
queued by the function the dashboard's button calls (workers.actors.enqueue). Every request is
written to the audit journal by api.journal.
"""

from datetime import datetime, timezone
from typing import Literal

from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import documents
from api.badges import badge_document, badge_svg
from api.errors import ApiError, install_handlers, not_found
from api.journal import Journaled
from drills.audit import AuditJournal
from drills.catalog import CatalogFile
from drills.fleet import Fleet
from drills.reports.report import new_drill_id
from drills.reports.signing import read_signature
from drills.tokens import Token, TokenFile
from drills import reasons

Language = Literal["fr", "en"]
BADGE_CACHE = "max-age=300"  # an embedded badge is fetched on every page view: five minutes old at most


class Context:
    """The catalog (read again when it changes), its Fleet, the tokens file and the journal."""

    def __init__(self, catalog_path, tokens_path):
        self.catalog_file, self.tokens = CatalogFile(catalog_path), TokenFile(tokens_path)
        self.fleets: dict[int, Fleet] = {}

    def fleet(self) -> Fleet:
        catalog = self.catalog_file.current()
        if self.catalog_file.mtime not in self.fleets:
            self.fleets = {self.catalog_file.mtime: Fleet(catalog)}
        return self.fleets[self.catalog_file.mtime]

    def journal(self) -> AuditJournal:
        return AuditJournal(self.catalog_file.current().evidence)


class Caller:
    """The token of a request, and the ids of the sites it may see."""

    def __init__(self, token: Token, fleet: Fleet):
        self.token, self.fleet = token, fleet
        self.scope = token.as_user().scope(fleet.catalog)


def create_app(catalog_path, tokens_path) -> FastAPI:
    context = Context(catalog_path, tokens_path)
    app = FastAPI(title="Restore Drill API", version="1", docs_url=None, redoc_url=None,
                  description="Read-only access to the sites, their status, drills, signed reports and certificates; "
                              "a drill now for operators; the sites' status badges. See docs/api.md.")
    install_handlers(app)
    app.add_middleware(Journaled, journal=context.journal)
    bearer = HTTPBearer(auto_error=False, description="a token of `drill tokens add`")

    def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
        token = context.tokens.find("token", credentials.credentials) if credentials else None
        if token is None:
            raise ApiError(401, reasons.API_UNAUTHORIZED, "a valid bearer token is needed (`drill tokens add`)")
        request.state.user = f"token:{token.id}"
        return Caller(token, context.fleet())

    @app.get("/v1/sites", summary="The sites the token sees, each with its status")
    def sites(who: Caller = Depends(caller)) -> list[dict]:
        return [documents.site(who.fleet.sites[status.site_id], status) for status in who.fleet.statuses(who.scope)]

    @app.get("/v1/sites/{site_id}", summary="One site and its status")
    def site(site_id: str, who: Caller = Depends(caller)) -> dict:
        return documents.site(who.fleet.site(who.scope, site_id), who.fleet.status(who.scope, site_id))

    @app.get("/v1/sites/{site_id}/status", summary="A site's status, as the dashboard's status page shows it")
    def status(site_id: str, who: Caller = Depends(caller)) -> dict:
        return documents.status(who.fleet.status(who.scope, site_id))

    @app.get("/v1/sites/{site_id}/drills", summary="A site's drills from the evidence store's index, newest first")
    def drills(site_id: str, limit: int = Query(100, ge=1, le=10_000),
               outcome: Literal["pass", "fail", "error"] | None = None, who: Caller = Depends(caller)) -> list[dict]:
        history = [entry for entry in reversed(who.fleet.history(who.scope, site_id))
                   if outcome is None or entry["outcome"] == outcome]
        return history[:limit]

    @app.get("/v1/sites/{site_id}/drills/{sequence}", summary="A drill's signed report, byte for byte",
             response_class=Response, responses={200: {"content": {"application/json": {}}}})
    def report(site_id: str, sequence: int, who: Caller = Depends(caller)) -> Response:
        path = who.fleet.report_path(who.scope, site_id, sequence)
        return Response(path.read_bytes(), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{path.name}"'})

    @app.get("/v1/sites/{site_id}/drills/{sequence}/signature", response_class=Response,
             summary="The report's detached Ed25519 signature (its .sig file; 404 for a report that embeds it)",
             responses={200: {"content": {"application/octet-stream": {}}}})
    def signature(site_id: str, sequence: int, who: Caller = Depends(caller)) -> Response:
        path = who.fleet.report_path(who.scope, site_id, sequence)
        data = read_signature(path)
        if data is None:
            raise not_found()
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{path.name}.sig"'})

    @app.get("/v1/sites/{site_id}/drills/{sequence}/certificate", response_class=Response,
             summary="The reversibility certificate of a passed drill, made on demand (PDF or HTML)",
             responses={200: {"content": {"application/pdf": {}, "text/html": {}}}})
    def certificate(site_id: str, sequence: int, lang: Language = "fr",
                    kind: Literal["pdf", "html"] = Query("pdf", alias="format"), who: Caller = Depends(caller)) -> Response:
        name, data = who.fleet.certificate(who.scope, site_id, sequence, lang, kind)
        return Response(data, media_type="application/pdf" if kind == "pdf" else "text/html; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/v1/sites/{site_id}/drill-now", status_code=202,
              summary="Queue a drill of the site now (operator tokens only); its report follows in the drills")
    def drill_now(site_id: str, backup: str | None = Body(None, embed=True, max_length=1024,
                                                          description="a backup's name; the newest if none"),
                  who: Caller = Depends(caller)) -> dict:
        from workers.actors import enqueue  # only here: the API reaches workers/ to enqueue, nothing else

        chosen = who.fleet.site(who.scope, site_id)
        if who.token.role != "operator":
            raise ApiError(403, reasons.API_FORBIDDEN, "a drill now takes an operator token")
        drill_id = new_drill_id(datetime.now(timezone.utc))
        try:
            enqueue(chosen, drill_id, now=True, backup_name=backup)
        except Exception as error:  # the broker's own errors: Redis down, refused, timed out
            raise ApiError(503, reasons.API_QUEUE_UNREACHABLE, f"the queue is unreachable: {type(error).__name__}")
        named = {"backup": backup} if backup else {}
        context.journal().record("drill.requested", f"token:{who.token.id}", site=site_id, drill_id=drill_id, **named)
        return {"site": site_id, "drill_id": drill_id, **named}

    def badge_status(request: Request, token: str):
        badge = context.tokens.find("badge", token)
        if badge is None:
            raise not_found()
        request.state.user, request.state.site = f"badge:{badge.id}", badge.sites[0]
        fleet = context.fleet()
        return fleet.status(frozenset(badge.sites), badge.sites[0]), fleet.sites[badge.sites[0]].locale

    @app.get("/badges/{token}.svg", response_class=Response, summary="A site's status badge (no other token needed)",
             responses={200: {"content": {"image/svg+xml": {}}}})
    def badge_picture(token: str, request: Request, lang: Language | None = None) -> Response:
        site_status, language = badge_status(request, token)
        return Response(badge_svg(site_status, lang or language), media_type="image/svg+xml; charset=utf-8",
                        headers={"Cache-Control": BADGE_CACHE})

    @app.get("/badges/{token}.json", summary="A site's status badge as JSON (no other token needed)")
    def badge_json(token: str, request: Request, lang: Language | None = None) -> JSONResponse:
        site_status, language = badge_status(request, token)
        return JSONResponse(badge_document(site_status, lang or language), headers={"Cache-Control": BADGE_CACHE})

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict:
        return {"ok": True}

    return app
