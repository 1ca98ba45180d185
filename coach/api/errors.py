"""JSON error responses shaped {"error": {"code", "message"}}."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    """An error a route answers with a status and code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The JSON body every error uses."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
