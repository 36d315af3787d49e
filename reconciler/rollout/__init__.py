"""Progressive delivery: a version change made in guarded weight steps, gated on alarms and
hooks, with its state kept in the cloud (tags on the function) so any runner resumes it."""
