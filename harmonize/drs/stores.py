"""Where the bytes of DRS objects live, and the access methods that reach them.

The embedded store is the workspace on local disk: ``https`` through the service's own
(signed) download route, and ``file://`` when enabled. With :class:`S3Settings` the
published files are objects in a bucket (``<prefix>/<path>``) and the ``s3`` access
method hands out presigned ``https`` URLs made with boto3.

>>> S3Settings(bucket="bkt", prefix="/ws/").key("published/a.json")
'ws/published/a.json'
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

S3_ACCESS_ID = "s3"


class S3Settings(BaseModel):
    """A bucket that mirrors the workspace layout under ``prefix``."""

    bucket: str = Field(min_length=3)
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None  # e.g. a MinIO or moto server
    presign_ttl_seconds: int = Field(default=300, ge=1, le=604_800)

    def key(self, path: str) -> str:
        """The object key of a workspace-relative path."""
        prefix = self.prefix.strip("/")
        return f"{prefix}/{path}" if prefix else path


class S3Store:
    """Presigned GET URLs for objects in one bucket (boto3, imported on first use)."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # heavy: only when the store is S3

            self._client = boto3.client(
                "s3", region_name=self.settings.region, endpoint_url=self.settings.endpoint_url
            )
        return self._client

    def presigned_url(self, path: str) -> str:
        """A time-limited https URL that GETs the object at ``path``."""
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.settings.bucket, "Key": self.settings.key(path)},
            ExpiresIn=self.settings.presign_ttl_seconds,
        )
        return url

    def size(self, path: str) -> int | None:
        """The stored size of ``path``, or None when the object does not exist."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.settings.bucket, Key=self.settings.key(path))
        except ClientError:
            return None
        return int(head["ContentLength"])
