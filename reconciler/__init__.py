"""reconciler: declarative GitOps for AWS Lambda aliases."""
