//! The coffer server: listener, request pipeline, identity (IAM/STS), CloudTrail, barrier, scheduler.
