//! coffer's transactional storage interface, its embedded (redb) and PostgreSQL adapters, and their shared conformance suite.
