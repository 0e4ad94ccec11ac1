"""How the API refuses: `{"error": CODE, "message": ...}` with a stable code of drills.reasons.

A site outside the token's scope, a site that does not exist, a drill or a badge that does not,
and a path no route serves all get `not_found()`'s one answer, byte for byte."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from drills.errors import ConfigError
from drills.fleet import NotVisible
from drills import reasons

CERTIFICATE_REFUSED = 409  # the drill exists but cannot be certified (failed, contents unverified, bad signature)


class ApiError(Exception):
    """Raised by a route to answer `status` with the reason `code` and a message (never a secret)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found() -> ApiError:
    return ApiError(404, reasons.API_NOT_FOUND, "not found")


def answer(error: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse({"error": error.code, "message": error.message}, status_code=error.status, headers=headers)


def install_handlers(app: FastAPI) -> None:
    async def refused(request: Request, error: ApiError) -> JSONResponse:
        return answer(error)

    async def invisible(request: Request, error: NotVisible) -> JSONResponse:
        return answer(not_found())

    async def config(request: Request, error: ConfigError) -> JSONResponse:
        """A drill that cannot be certified (a certificate.* code), or the catalog broken since start."""
        status = CERTIFICATE_REFUSED if error.code.startswith("certificate.") else 500
        return answer(ApiError(status, error.code, error.message))

    async def http(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 404:
            return answer(not_found())
        return answer(ApiError(error.status_code, reasons.API_INVALID_REQUEST, str(error.detail)))

    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        # where and what, never the value given (it could be anything, a token pasted in the wrong place)
        problems = "; ".join(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in error.errors())
        return answer(ApiError(422, reasons.API_INVALID_REQUEST, problems))

    app.add_exception_handler(ApiError, refused)
    app.add_exception_handler(NotVisible, invisible)
    app.add_exception_handler(ConfigError, config)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(RequestValidationError, invalid)
