"""Coaching analysis: a SessionSummary in, an `AiAnalysis` out."""
