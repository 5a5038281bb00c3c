//! CloudTrail-shaped audit events in a hash-chained, group-committed, verifiable log.
