//! coffer bench: a SigV4-signing load generator with a concurrency sweep, and a bare HTTP floor server.
