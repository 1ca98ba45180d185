"""Words in, SessionSummary out: pure speech metrics with no I/O."""
