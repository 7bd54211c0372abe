"""The reliability suite: duplicates, concurrency, crashes, storage faults, bad input,
fuzzing and security checks, against every storage back-end (see docs/reliability.md)."""
