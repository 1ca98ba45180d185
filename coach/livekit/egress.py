"""Recording LiveKit interviews with Egress, and learning where the file went from webhooks."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from livekit import api

from coach.livekit.tokens import LiveKitConfig
from coach.providers import ProviderError, ProviderObserver, RetryPolicy, call_with_retry
from coach.settings import Settings
from coach.store.documents import EgressRecord

log = logging.getLogger("coach.livekit.egress")


class RecordingSink(Protocol):
    """Where a finished recording's location is stored (the interviews service)."""

    async def set_recording(self, interview_id: str, url: str) -> None:
        """Record where the interview's audio can be played from."""
        ...


_ONCE = RetryPolicy(attempts=1)


def _error(e: Exception, what: str) -> ProviderError:
    retryable = not isinstance(e, api.TwirpError) or e.status >= 500
    return ProviderError("livekit", f"{what}: {e}", retryable=retryable)


class EgressRecorder:
    """Starts and stops audio-only room-composite egresses; links their files to interviews."""

    def __init__(
        self,
        config: LiveKitConfig,
        settings: Settings,
        sink: RecordingSink,
        observer: ProviderObserver | None = None,
    ) -> None:
        if not settings.livekit_egress_filepath:
            raise ValueError("LIVEKIT_EGRESS_FILEPATH turns egress recording on")
        self._observer = observer
        self._config = config
        self._settings = settings
        self._sink = sink
        self._api: api.LiveKitAPI | None = None

    def _client(self) -> api.LiveKitAPI:
        if self._api is None:
            url = self._config.url.replace("wss://", "https://").replace("ws://", "http://")
            self._api = api.LiveKitAPI(url, self._config.api_key, self._config.api_secret)
        return self._api

    def _output(self) -> api.EncodedFileOutput:
        s = self._settings
        output = api.EncodedFileOutput(
            file_type=api.EncodedFileType.OGG, filepath=s.livekit_egress_filepath or ""
        )
        if s.livekit_egress_s3_bucket:
            output.s3.CopyFrom(
                api.S3Upload(
                    bucket=s.livekit_egress_s3_bucket,
                    region=s.livekit_egress_s3_region or "",
                    endpoint=s.livekit_egress_s3_endpoint or "",
                    access_key=s.livekit_egress_s3_access_key or "",
                    secret=(
                        s.livekit_egress_s3_secret.get_secret_value()
                        if s.livekit_egress_s3_secret
                        else ""
                    ),
                )
            )
        return output

    async def start(self, room_name: str) -> str:
        """Start recording the room's audio; returns the egress id."""
        request = api.RoomCompositeEgressRequest(
            room_name=room_name, audio_only=True, file_outputs=[self._output()]
        )

        async def call() -> Any:
            try:
                return await self._client().egress.start_room_composite_egress(request)
            except Exception as e:  # SDK transport and Twirp errors alike
                raise _error(e, f"could not start recording room {room_name}") from e

        # one attempt, as before: a late recording is worth less than none; measured here
        info = await call_with_retry(call, _ONCE, provider="livekit", observer=self._observer)
        await EgressRecord(id=info.egress_id, room_name=room_name).insert()
        log.info("recording room %s started (egress %s)", room_name, info.egress_id,
                 extra={"room": room_name})  # fmt: skip
        return str(info.egress_id)

    async def stop(self, egress_id: str) -> None:
        """Stop recording; the file's location arrives with the `egress_ended` webhook."""

        async def call() -> None:
            try:
                await self._client().egress.stop_egress(api.StopEgressRequest(egress_id=egress_id))
            except Exception as e:  # SDK transport and Twirp errors alike
                raise _error(e, f"stopping egress {egress_id}") from e

        try:
            await call_with_retry(call, _ONCE, provider="livekit", observer=self._observer)
        except ProviderError as e:  # an egress that already ended is fine to "stop"
            log.warning("%s", e)

    async def link(self, egress_id: str, interview_id: str) -> None:
        """The session was stored as `interview_id`."""
        record = await EgressRecord.get(egress_id)
        if record is None:
            return
        record.interview_id = interview_id
        await record.save()
        await self._settle(record)

    async def ended(self, info: Any) -> None:
        """An `egress_ended` webhook: remember where the file is."""
        record = await EgressRecord.get(info.egress_id)
        if record is None:
            log.info("webhook for an egress coach did not start: %s", info.egress_id)
            return
        locations = [f.location for f in info.file_results if f.location]
        if not locations and info.HasField("file") and info.file.location:
            locations = [info.file.location]
        if not locations:
            log.warning("egress %s ended without a file: %s", info.egress_id, info.error)
            return
        record.location = locations[0]
        await record.save()
        await self._settle(record)

    async def _settle(self, record: EgressRecord) -> None:
        # Whichever comes second, the stored interview or the webhook, links the two.
        if record.interview_id and record.location:
            await self._sink.set_recording(record.interview_id, record.location)

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._api is not None:
            await self._api.aclose()


def verify_webhook(config: LiveKitConfig, body: str, authorization: str) -> Any:
    """The webhook event, if its signature is LiveKit's for this body; else `ValueError`."""
    receiver = api.WebhookReceiver(api.TokenVerifier(config.api_key, config.api_secret))
    try:
        return receiver.receive(body, authorization)
    except Exception as e:  # the SDK raises bare Exceptions for bad signatures and hashes
        raise ValueError(f"webhook signature rejected: {e}") from e
