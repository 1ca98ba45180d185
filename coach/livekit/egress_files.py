"""Deleting Egress recordings where LiveKit uploaded them (S3 or an S3-compatible store).

LiveKit Egress writes a LiveKit interview's audio to the bucket in `LIVEKIT_EGRESS_S3_*`;
coach only learns the file's location from the `egress_ended` webhook. Erasing an account
must delete those objects too, with the same credentials. boto3 stays inside this module.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote, urlparse

from coach.providers import ProviderError
from coach.settings import Settings

log = logging.getLogger("coach.livekit.egress_files")


def object_key(location: str, bucket: str) -> str | None:
    """The object key of an Egress file location in `bucket`, or None if it is elsewhere.

    LiveKit reports `s3://bucket/key`, virtual-hosted `https://bucket.host/key` or
    path-style `https://host/bucket/key` (custom endpoints), depending on the store.
    """
    url = urlparse(location)
    path = unquote(url.path)
    if url.scheme == "s3":
        return path.lstrip("/") or None if url.netloc == bucket else None
    if url.scheme not in ("http", "https"):
        return None
    if url.hostname is not None and url.hostname.startswith(f"{bucket}."):
        return path.lstrip("/") or None
    prefix = f"/{bucket}/"
    if path.startswith(prefix):
        return path[len(prefix) :] or None
    return None


class EgressFiles:
    """Deletes Egress files from the configured S3 bucket."""

    def __init__(self, settings: Settings) -> None:
        if not settings.livekit_egress_s3_bucket:
            raise ValueError("LIVEKIT_EGRESS_S3_BUCKET is where Egress files are")
        self.bucket = settings.livekit_egress_s3_bucket
        self._settings = settings
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            import boto3  # type: ignore[import-untyped]

            s = self._settings
            self._client = boto3.client(
                "s3",
                region_name=s.livekit_egress_s3_region or None,
                endpoint_url=s.livekit_egress_s3_endpoint or None,
                aws_access_key_id=s.livekit_egress_s3_access_key or None,
                aws_secret_access_key=(
                    s.livekit_egress_s3_secret.get_secret_value()
                    if s.livekit_egress_s3_secret
                    else None
                ),
            )
        return self._client

    async def delete(self, location: str) -> bool:
        """Delete the object at `location`; False if it is not in coach's bucket."""
        key = object_key(location, self.bucket)
        if key is None:
            return False
        try:
            await asyncio.to_thread(self._s3().delete_object, Bucket=self.bucket, Key=key)
        except Exception as e:
            raise ProviderError("s3", f"deleting an egress file failed: {e}", retryable=True) from e
        return True
