"""Data Connect's answers, apart from HTTP: tables, their info and rows, and searches.

Who may read what (decided per request, the same checks as DRS):

- anyone, anonymous included, reads the tables of *public* datasets: ``GET /tables``,
  ``/table/{name}/info`` and ``/table/{name}/data`` (their Phenopackets are open on DRS
  already);
- a caller whose Passport carries a ``ControlledAccessGrants`` visa for a controlled
  dataset reads that dataset's rows too; without the visa no record of it is ever served;
- ``POST /search`` only runs for a caller holding such a grant for at least one controlled
  dataset published here (401 without credentials, 403 without a grant). It runs over the
  same rows the table API serves that caller: the public datasets and the granted ones.

A credential that cannot be trusted is answered 401 everywhere, as DRS does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from harmonize.discovery.dataconnect import catalog, engine, guard
from harmonize.discovery.dataconnect.access import Scope, submission_access
from harmonize.discovery.dataconnect.config import DataConnectSettings
from harmonize.discovery.dataconnect.paging import Page, decode
from harmonize.drs.auth import Authority, Caller
from harmonize.drs.registry import Registry
from harmonize.warehouse import Warehouse, current
from harmonize.warehouse.delta import schema

log = logging.getLogger("harmonize.discovery.dataconnect")

PageUrl = Callable[[Page], str]  # the absolute next_page_url of a page


class DataConnectError(Exception):
    """An answer other than 200, with a Data Connect ``ErrorResponse`` body."""

    def __init__(
        self, status: int, title: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {"errors": [{"title": self.title, "detail": self.detail}]}


def _not_found(name: str) -> DataConnectError:
    return DataConnectError(
        404,
        "Table not found",
        f"no table named {name[:200]!r} that your credentials open: GET /tables lists them",
    )


@dataclass
class DataConnect:
    """The service over one registry and warehouse."""

    registry: Registry
    warehouse: Warehouse
    authority: Authority
    settings: DataConnectSettings
    slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.slots = threading.BoundedSemaphore(self.settings.max_concurrent)

    def caller(self, bearer: str | None) -> Caller:
        caller = self.authority.caller(bearer, None)
        if caller.problem is not None:
            raise DataConnectError(
                401, "Unauthorized", f"the bearer token is not trusted: {caller.problem}"
            )
        return caller

    def scope(self, caller: Caller) -> Scope:
        visa = self.authority.settings.visa_value
        return Scope.of(submission_access(self.registry), caller.grants, visa)

    def names(self, scope: Scope) -> list[str]:
        return catalog.table_names(engine.served_datasets(scope))

    def tables(self, scope: Scope) -> dict[str, Any]:
        return {"tables": [catalog.describe(name) for name in self.names(scope)]}

    def info(self, name: str, scope: Scope) -> dict[str, Any]:
        if name not in self.names(scope):
            raise _not_found(name)
        return catalog.describe(name)

    def data(self, name: str, scope: Scope, token: str | None, url: PageUrl) -> dict[str, Any]:
        page = self._page(token, "table") if token else None
        if page is not None and page.target != name:
            raise DataConnectError(400, "Bad page token", "this page_token is another table's")
        if name not in self.names(scope):
            raise _not_found(name)
        seq = page.seq if page is not None else None
        dataset, table = catalog.split(name) or (None, name)
        sql = f"SELECT * FROM {_sql_name(dataset, table)}"
        model = catalog.data_model(schema(table), title=name)
        return self._answer(Page("table", name, 0, 0), page, sql, [], scope, seq, url, model)

    def search(
        self, body: Any, caller: Caller, scope: Scope, url: PageUrl, token: str | None = None
    ) -> dict[str, Any]:
        if not caller.presented:
            raise DataConnectError(
                401,
                "Unauthorized",
                "POST /search needs a bearer token: a GA4GH Passport carrying a "
                "ControlledAccessGrants visa for a controlled dataset",
            )
        if not scope.controlled:
            raise DataConnectError(
                403,
                "Forbidden",
                "POST /search is for callers holding a ControlledAccessGrants visa for a "
                "controlled dataset published here; your credentials carry none",
            )
        page = self._page(token, "search") if token else None
        if page is not None:
            query, parameters = page.target, page.parameters
        else:
            query, parameters = _request(body, self.settings.max_query_chars)
        try:
            checked = guard.check(query, self.names(scope))
        except guard.Refused as refused:
            log.warning("search refused: %s; query %r", refused, query[:500])
            raise DataConnectError(400, "Query refused", str(refused)) from refused
        if checked.placeholders != len(parameters):
            detail = (
                f"the query has {checked.placeholders} ? placeholder(s) but "
                f"{len(parameters)} parameter(s) were given: give one per placeholder"
            )
            log.warning("search refused: %s", detail)
            raise DataConnectError(400, "Query refused", detail)
        sql = f"SELECT * FROM ({checked.sql}) AS harmonize_search"
        seq = page.seq if page is not None else None
        first = Page("search", checked.sql, 0, 0, list(parameters))
        return self._answer(first, page, sql, parameters, scope, seq, url, None)

    def _page(self, token: str, kind: str) -> Page:
        try:
            page = decode(token)
        except ValueError as exc:
            raise DataConnectError(400, "Bad page token", str(exc)) from exc
        if page.kind != kind:
            raise DataConnectError(400, "Bad page token", f"this page_token is not a {kind}'s")
        return page

    def _answer(
        self,
        first: Page,
        page: Page | None,
        sql: str,
        parameters: list[Any],
        scope: Scope,
        seq: int | None,
        url: PageUrl,
        model: dict[str, Any] | None,
    ) -> dict[str, Any]:
        view = current(self.registry)
        if seq is not None and seq != view.seq:
            # an older publication may still hold withdrawn or superseded rows: never read it
            raise DataConnectError(
                410,
                "Page gone",
                f"the published tables changed since the first page (publication {seq}, now "
                f"{view.seq}): start again from the first page",
            )
        offset = page.offset if page is not None else 0
        size = self.settings.page_size
        if not self.slots.acquire(timeout=self.settings.queue_seconds):
            retry = str(max(1, round(self.settings.timeout_seconds)))
            raise DataConnectError(
                503,
                "Busy",
                f"all {self.settings.max_concurrent} query slots are busy: retry in {retry} s",
                headers={"Retry-After": retry},
            )
        try:
            con = engine.connect(self.warehouse, view, scope, self.settings)
            try:
                table = engine.run(
                    con,
                    f"{sql} LIMIT {size + 1} OFFSET {offset}",
                    parameters,
                    timeout=self.settings.timeout_seconds,
                    limits={"memory_limit": self.settings.memory_limit},
                )
            finally:
                engine.close(con)
        except engine.QueryFailed as failed:
            log.warning("search failed: %s; query %r", failed, sql[:500])
            raise DataConnectError(400, "Query failed", str(failed)) from failed
        finally:
            self.slots.release()
        rows = table.slice(0, size)
        answer: dict[str, Any] = {
            "data_model": model if model is not None else _result_model(rows.schema),
            "data": catalog.rows(rows),
        }
        if table.num_rows > size:
            following = Page(first.kind, first.target, view.seq, offset + size, parameters)
            answer["pagination"] = {"next_page_url": url(following)}
        return answer


def _result_model(schema: pa.Schema) -> dict[str, Any]:
    return catalog.data_model(schema)


def _sql_name(dataset: str | None, table: str) -> str:
    quoted = f'"{table}"'
    return quoted if dataset is None else '"' + dataset.replace('"', '""') + '".' + quoted


def _request(body: Any, max_chars: int) -> tuple[str, list[Any]]:
    """The query and parameters of a ``SearchRequest`` body, or a 400 naming the field."""
    if not isinstance(body, dict):
        raise DataConnectError(400, "Bad request", "the body must be a JSON object with a query")
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise DataConnectError(400, "Bad request", "query: give the SQL text as a string")
    if len(query) > max_chars:
        raise DataConnectError(
            400, "Bad request", f"query: {len(query)} characters, more than the {max_chars} allowed"
        )
    parameters = body.get("parameters", [])
    if not isinstance(parameters, list):
        raise DataConnectError(400, "Bad request", "parameters: give a JSON array, one per ?")
    return query, parameters
