"""Calling domain services from pages: their ``Problem`` becomes an HTML error page, not JSON.

Raising (rather than returning an error page) keeps the request's transaction uncommitted, so a
refused action writes nothing, exactly as in the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..access import Principal
from ..deps import WriteConn
from ..problems import Problem

# A page's write transaction is the API's: it commits before the response is sent, so a browser
# following the redirect of a sign-in or a review at once finds it committed.
WriteTx = WriteConn


class PageProblem(Exception):
    """A service refused a page's request; rendered as an error page with the problem's status."""

    def __init__(self, problem: Problem, principal: Principal | None) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.principal = principal


@contextmanager
def as_page(principal: Principal | None) -> Iterator[None]:
    try:
        yield
    except Problem as exc:
        raise PageProblem(exc, principal) from exc
