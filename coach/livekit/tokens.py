"""LiveKit access tokens: the candidate's (one room, microphone only) and coach's own bots'."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from livekit import api

from coach.livekit.dispatch import JobMetadata
from coach.settings import Settings

ROOM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
LISTENER_PREFIX = "coach-listener"
RESULTS_PREFIX = "coach-results"
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
    agent_name: str = "coach"

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
            agent_name=settings.livekit_agent_name,
        )

    def _token(
        self,
        identity: str,
        name: str,
        grants: api.VideoGrants,
        room_config: api.RoomConfiguration | None = None,
    ) -> str:
        token = (
            api.AccessToken(self.api_key, self.api_secret)
            .with_identity(identity)
            .with_name(name)
            .with_grants(grants)
            .with_ttl(self.token_ttl)
        )
        if room_config is not None:
            token = token.with_room_config(room_config)
        return token.to_jwt()

    def candidate_token(
        self, room: str, identity: str, name: str, job: JobMetadata | None = None
    ) -> str:
        """Join `room` only, publish a microphone only, subscribe; never admin or record.

        With `job`, the first join creates the room with one dispatch of coach's agent.
        """
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
        # The dispatch rides in the token, not AgentDispatchService: LiveKit creates the room
        # and dispatches in one step at the first join, with no API call from coach.
        config = (
            api.RoomConfiguration(
                agents=[api.RoomAgentDispatch(agent_name=self.agent_name, metadata=job.to_json())]
            )
            if job is not None
            else None
        )
        return self._token(identity, name, grants, config)

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

    def results_token(self, room: str) -> str:
        """coach's hidden bot that sends an interview's live results: text streams only."""
        grants = api.VideoGrants(
            room_join=True,
            room=room,
            can_publish=False,
            can_publish_data=True,
            can_subscribe=False,
            hidden=True,
        )
        return self._token(f"{RESULTS_PREFIX}-{room}", "coach", grants)

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
