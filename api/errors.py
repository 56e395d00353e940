"""The errors a request can meet, each answered as one OPTIMADE error object with its status.

Why one exception type: every refusal, from the filter parser to the query time limit, reaches
the client the same way (``app.py`` turns it into the error document); anything else that goes
wrong is logged and answered 500 with no detail of the server's insides.
"""

from __future__ import annotations

from http import HTTPStatus

# Statuses the OPTIMADE specification adds to HTTP's.
_TITLES = {553: "Version Not Supported"}


class ApiError(Exception):
    """A request the API refuses: ``status`` and one sentence saying why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    @property
    def title(self) -> str:
        if self.status in _TITLES:
            return _TITLES[self.status]
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Error"


def bad_request(detail: str) -> ApiError:
    return ApiError(400, detail)


def not_implemented(detail: str) -> ApiError:
    return ApiError(501, detail)
