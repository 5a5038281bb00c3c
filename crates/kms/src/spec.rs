//! Key specs, key usages, algorithms and the key-state table.
