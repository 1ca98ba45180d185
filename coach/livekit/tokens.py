"""LiveKit access tokens: the candidate's (one room, microphone only) and coach's own bots'."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from livekit import api

from coach.settings import Settings

ROOM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
LISTENER_PREFIX = "coach-listener"
INTERVIEWER_IDENTITY = "coach-interviewer"


class LiveKitNotConfigured(RuntimeError):
    """LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are not set."""


@dataclass(frozen=True)
class LiveKitConfig:
    """Where the LiveKit server is and the key pair that signs tokens for it."""

    url: str
    api_key: str
    api_secret: str
    token_ttl: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveKitConfig:
        """The configuration, or `LiveKitNotConfigured`."""
        if not (settings.livekit_url and settings.livekit_api_key and settings.livekit_api_secret):
            raise LiveKitNotConfigured("LiveKit is not configured on this server")
        return cls(
            url=settings.livekit_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret.get_secret_value(),
            token_ttl=dt.timedelta(minutes=settings.livekit_token_ttl_minutes),
        )

    def _token(self, identity: str, name: str, grants: api.VideoGrants) -> str:
        return (
            api.AccessToken(self.api_key, self.api_secret)
            .with_identity(identity)
            .with_name(name)
            .with_grants(grants)
            .with_ttl(self.token_ttl)
            .to_jwt()
        )

    def candidate_token(self, room: str, identity: str, name: str) -> str:
        """Join `room` only, publish a microphone only, subscribe; never admin or record."""
        # The token only guards the first connect, so its lifetime is minutes, not the
        # interview's length: LiveKit keeps a joined participant connected past `exp`.
        grants = api.VideoGrants(
            room_join=True,
            room=room,
            can_publish=True,
            can_publish_sources=["microphone"],
            can_subscribe=True,
            can_publish_data=False,
        )
        return self._token(identity, name, grants)

    def listener_token(self, room: str) -> str:
        """coach's hidden, subscribe-only bot that transcribes the candidate."""
        grants = api.VideoGrants(
            room_join=True,
            room=room,
            can_publish=False,
            can_publish_data=False,
            can_subscribe=True,
            hidden=True,
        )
        return self._token(f"{LISTENER_PREFIX}-{room}", "coach", grants)

    def interviewer_token(self, room: str) -> str:
        """The AI interviewer: speaks (microphone) and listens in one room."""
        grants = api.VideoGrants(
            room_join=True,
            room=room,
            can_publish=True,
            can_publish_sources=["microphone"],
            can_subscribe=True,
            can_publish_data=True,
        )
        return self._token(INTERVIEWER_IDENTITY, "Interviewer", grants)
