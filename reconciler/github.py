"""What GitHub holds the reconciler's output to. Light on purpose: the CLI reads it at import,
and `reconcile --help` imports nothing it does not print."""

# Characters in one comment, issue body or job summary, counted in UTF-16 code units as GitHub's
# JavaScript counts them.
COMMENT_LIMIT = 65_536
