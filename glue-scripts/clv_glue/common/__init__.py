"""Shared helpers of the Glue jobs: URI mapping, contracts, file system access, PII hashing, job runtime."""
