"""The DRS read model for one request: look objects up, check access, describe them.

Routes stay thin: they parse the request, call one method here and return its result.
A controlled id the caller may not read answers 401/403 (see :mod:`harmonize.drs.auth`),
and so does an id that is not registered, so that neither reveals whether a controlled
object exists; a tombstoned object answers 404 saying it was deleted (after the access
check, so a deleted controlled object reveals no more than a live one).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from harmonize.drs.auth import Authority, Caller, decide
from harmonize.drs.config import DrsSettings
from harmonize.drs.http_errors import DrsHTTPError
from harmonize.drs.links import Links
from harmonize.drs.models import DrsObjectRow
from harmonize.drs.registry import Registry
from harmonize.drs.render import (
    HTTPS_ACCESS_ID,
    blob_json,
    contents_object,
    describe_blob,
    drs_object,
    inside,
)
from harmonize.drs.schemas import (
    AccessURL,
    BulkAccessURL,
    BulkAccessURLs,
    BulkObjects,
    ContentsObject,
    DrsObject,
    ObjectAccessIds,
    Summary,
    Unresolved,
)
from harmonize.drs.signing import UrlSigner
from harmonize.drs.specs import OBJECT_ID
from harmonize.drs.stores import S3_ACCESS_ID, S3Store

MAX_NESTING = 16  # bundles inside bundles, when expanding
RENDERED_KEPT = 50_000  # rendered blobs kept per worker process (about 1 kB each)

# The JSON of a blob's DrsObject is a function of its row and of the service's links and
# access settings; the key holds all of them: every column the JSON shows, so that no
# change of a row can be missed, with or without a new updated_time (a migration moves
# paths and sets versions without one). The row itself is read from the database on every
# request: a withdrawn object is refused before this cache is consulted, whatever any
# worker holds. The fast path (harmonize.drs.fastlookup) keeps its own, on the same terms.
_rendered: dict[tuple[object, ...], bytes] = {}
_SHOWN = (
    "id",
    "name",
    "description",
    "size",
    "created_time",
    "updated_time",
    "version",
    "mime_type",
    "sha256",
    "path",
    "superseded_by",
    "is_bundle",
)


def _shown(row: DrsObjectRow) -> tuple[object, ...]:
    """The values of a row that its JSON shows (aliases as a tuple: hashable)."""
    return (*(getattr(row, column) for column in _SHOWN), tuple(row.aliases or ()))


class DrsObjects:
    """Lookups, access checks and rendering, bound to one request's credentials and links."""

    def __init__(
        self,
        registry: Registry,
        settings: DrsSettings,
        links: Links,
        token: str | None,
        *,
        authority: Authority,
        signer: UrlSigner,
        s3: S3Store | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.links = links
        self.token = token
        self.authority = authority
        self.signer = signer
        self.s3 = s3
        self.root = settings.workspace.resolve()
        self.passports: list[str] = []
        self._caller: Caller | None = None

    def use_passports(self, passports: list[str] | None) -> DrsObjects:
        """Add the passports of a POST body to the request's credentials."""
        self.passports = list(passports or [])
        self._caller = None
        return self

    @property
    def caller(self) -> Caller:
        """What the request's credentials prove (verified once per request)."""
        if self._caller is None:
            self._caller = self.authority.caller(self.token, self.passports)
        return self._caller

    # -- single objects --------------------------------------------------------------

    def problem(self, object_id: str, row: DrsObjectRow | None) -> DrsHTTPError | None:
        """Why ``row`` cannot be shown to this caller, or None."""
        if not OBJECT_ID.match(object_id):
            return DrsHTTPError(400, f"invalid DRS object id {object_id!r}")
        value = None if row is None else self.settings.auth.visa_value(row.dataset)
        status = decide(row.access if row is not None else "controlled", value, self.caller)
        if status == 401:
            problem = self.caller.problem
            challenge = 'Bearer realm="drs"' + (', error="invalid_token"' if problem else "")
            why = f"the credentials are not accepted ({problem})" if problem else "no credentials"
            return DrsHTTPError(
                401,
                f"{why}: DRS object {object_id} is unknown or controlled; send a bearer token "
                "or passports with a ControlledAccessGrants visa for its dataset",
                {"WWW-Authenticate": challenge},
            )
        if status == 403:
            return DrsHTTPError(
                403, f"the credentials do not open DRS object {object_id} (unknown or controlled)"
            )
        assert row is not None
        if row.deleted:
            return DrsHTTPError(404, f"DRS object {object_id} was {row.tombstone or 'deleted'}")
        return None

    def untrusted(self) -> DrsHTTPError | None:
        """401 when the request presents a credential that cannot be trusted (any route:
        an invalid token is never silently ignored, even for public objects)."""
        if not self.caller.presented or self.caller.problem is None:
            return None
        return DrsHTTPError(
            401,
            f"the credentials are not accepted ({self.caller.problem})",
            {"WWW-Authenticate": 'Bearer realm="drs", error="invalid_token"'},
        )

    def check_credentials(self) -> None:
        """Raise :meth:`untrusted`'s 401, if any."""
        error = self.untrusted()
        if error is not None:
            raise error

    def lookup(self, object_id: str) -> DrsObjectRow:
        """The row, if this caller may see it; otherwise raise the specified error."""
        self.check_credentials()
        row = self.registry.get(object_id) if OBJECT_ID.match(object_id) else None
        error = self.problem(object_id, row)
        if error is not None:
            raise error
        assert row is not None
        return row

    def describe(self, row: DrsObjectRow, *, expand: bool = False) -> DrsObject:
        """The DrsObject of a visible row (bundles with their contents)."""
        if not row.is_bundle:
            expose = self.settings.expose_file_urls
            return describe_blob(row, self.links, self.root, expose_files=expose, s3=self.s3)
        contents = self.contents(row.id, expand=expand, seen={row.id})
        return drs_object(row, self.links, contents=contents)

    def describe_json(self, row: DrsObjectRow, *, expand: bool = False) -> bytes:
        """:meth:`describe` as the route's JSON (by alias, without nulls); a blob's is kept."""
        if row.is_bundle:  # contents hang on other rows and on the caller's access
            return blob_json(self.describe(row, expand=expand))
        region = self.s3.settings.region if self.s3 is not None else None
        key = (
            _shown(row),
            self.links,
            self.root,
            self.settings.expose_file_urls,
            self.s3 is not None,
            region,
        )
        found = _rendered.get(key)
        if found is None:
            found = blob_json(self.describe(row))
            if len(_rendered) >= RENDERED_KEPT:
                _rendered.clear()
            _rendered[key] = found
        return found

    def contents(self, bundle_id: str, *, expand: bool, seen: set[str]) -> list[ContentsObject]:
        """A bundle's contents; with ``expand``, nested bundles the caller may see, recursively."""
        members = self.registry.bundle_members(bundle_id)
        if not expand or len(seen) > MAX_NESTING:
            return [contents_object(member_id, name, self.links) for member_id, name in members]
        rows = self.registry.get_many([member_id for member_id, _ in members])
        entries = []
        for member_id, name in members:
            row = rows.get(member_id)
            nested = None
            if (
                row is not None
                and row.is_bundle
                and member_id not in seen
                and self.problem(member_id, row) is None
            ):
                nested = self.contents(member_id, expand=True, seen=seen | {member_id})
            entries.append(contents_object(member_id, name, self.links, nested))
        return entries

    def access_url(self, row: DrsObjectRow, access_id: str) -> AccessURL:
        """The URL (and headers) that fetch a blob's bytes."""
        missing = DrsHTTPError(404, f"DRS object {row.id} has no access method {access_id!r}")
        if row.is_bundle or not row.path:
            raise missing
        if self.s3 is not None:
            if access_id != S3_ACCESS_ID:
                raise missing
            return AccessURL(url=self.s3.presigned_url(row.path))
        if access_id != HTTPS_ACCESS_ID:
            raise missing
        url = self.links.download_url(row.id)
        if row.access == "controlled":  # a short-lived signed URL: no credential to forward
            expires, signature = self.signer.sign(row.id)
            url += f"?expires={expires}&signature={signature}"
        return AccessURL(url=url)

    def signed_lookup(self, object_id: str, expires: int, signature: str) -> DrsObjectRow:
        """The row behind a signed download URL, if the signature holds and has not expired."""
        if not OBJECT_ID.match(object_id) or not self.signer.valid(object_id, expires, signature):
            raise DrsHTTPError(403, "the signed URL is invalid or has expired")
        row = self.registry.get(object_id)
        if row is None or row.deleted:
            gone = row.tombstone if row is not None and row.tombstone else "deleted"
            raise DrsHTTPError(404, f"DRS object {object_id} was {gone}")
        return row

    def local_file(self, row: DrsObjectRow) -> Path:
        """The file behind a blob; only paths that resolve inside the workspace are served."""
        unavailable = DrsHTTPError(404, f"the bytes of DRS object {row.id} are not available")
        if row.is_bundle or not row.path:
            raise DrsHTTPError(404, f"DRS object {row.id} is a bundle: fetch its contents")
        lexical = inside(self.root, row.path)
        if lexical is None:
            raise unavailable
        real = lexical.resolve()  # follows symlinks: they must stay inside too
        if not real.is_relative_to(self.root) or not real.is_file():
            raise unavailable
        return real

    # -- bulk ------------------------------------------------------------------------

    def _check_length(self, length: int) -> None:
        limit = self.settings.max_bulk_request_length
        if length > limit:
            raise DrsHTTPError(413, f"{length} ids requested; at most {limit} per request")

    def _rows(self, ids: list[str]) -> dict[str, DrsObjectRow]:
        return self.registry.get_many(
            [object_id for object_id in ids if OBJECT_ID.match(object_id)]
        )

    def bulk(self, object_ids: list[str], *, expand: bool = False) -> BulkObjects:
        """Several objects at once; failures are listed per error code, not raised."""
        self._check_length(len(object_ids))
        self.check_credentials()
        wanted = list(dict.fromkeys(object_ids))
        rows = self._rows(wanted)
        resolved: list[DrsObject] = []
        failed: dict[int, list[str]] = defaultdict(list)
        for object_id in wanted:
            row = rows.get(object_id)
            error = self.problem(object_id, row)
            if error is not None:
                failed[error.status_code].append(object_id)
            else:
                assert row is not None
                resolved.append(self.describe(row, expand=expand))
        return BulkObjects(
            summary=_summary(len(wanted), len(resolved)),
            unresolved_drs_objects=_unresolved(failed),
            resolved_drs_object=resolved,
        )

    def bulk_access(self, requests: list[ObjectAccessIds]) -> BulkAccessURLs:
        """Access URLs for several objects; an object with any failing access id is unresolved."""
        self._check_length(len(requests))
        self.check_credentials()
        rows = self._rows([request.bulk_object_id for request in requests])
        resolved: list[BulkAccessURL] = []
        failed: dict[int, list[str]] = defaultdict(list)
        for request in requests:
            object_id = request.bulk_object_id
            row = rows.get(object_id)
            error = self.problem(object_id, row)
            urls: list[BulkAccessURL] = []
            if error is None:
                assert row is not None
                try:
                    for access_id in request.bulk_access_ids:
                        url = self.access_url(row, access_id)
                        urls.append(
                            BulkAccessURL(
                                drs_object_id=object_id,
                                drs_access_id=access_id,
                                url=url.url,
                                headers=url.headers,
                            )
                        )
                except DrsHTTPError as exc:
                    error = exc
            if error is not None:
                failed[error.status_code].append(object_id)
            else:
                resolved.extend(urls)
        return BulkAccessURLs(
            summary=_summary(len(requests), len(requests) - sum(map(len, failed.values()))),
            unresolved_drs_objects=_unresolved(failed),
            resolved_drs_object_access_urls=resolved,
        )


def _summary(requested: int, resolved: int) -> Summary:
    return Summary(requested=requested, resolved=resolved, unresolved=requested - resolved)


def _unresolved(failed: dict[int, list[str]]) -> list[Unresolved]:
    return [Unresolved(error_code=code, object_ids=ids) for code, ids in sorted(failed.items())]
