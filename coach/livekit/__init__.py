"""The LiveKit provider family: access tokens, the room audio source, egress recordings."""
