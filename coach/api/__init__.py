"""HTTP surface: REST routes (the client WebSocket at "/" mounts beside them later)."""
