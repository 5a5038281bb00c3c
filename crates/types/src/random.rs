//! Injected randomness for decisions that tests must be able to replay (when in a rotation
//! window a secret rotates). Not for key material: keys and nonces come from
//! `coffer_crypto`'s CSPRNG directly.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

pub trait Random: Send + Sync + Debug {
    /// A uniformly distributed 64-bit value.
    fn next_u64(&self) -> u64;

    /// A value in `0..n` (0 when `n` is 0). The modulo bias is below 2^-32 for the
    /// ranges coffer draws from (at most days in seconds).
    fn below(&self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

pub type SharedRandom = Arc<dyn Random>;

/// A deterministic generator (SplitMix64) for tests and `--test-clock` servers: the same
/// seed gives the same sequence.
#[derive(Debug)]
pub struct SeededRandom {
    state: Mutex<u64>,
}

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(seed),
        }
    }
}

impl Random for SeededRandom {
    fn next_u64(&self) -> u64 {
        let mut s = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_repeatable_and_bounded() {
        let a = SeededRandom::new(7);
        let b = SeededRandom::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        assert!((0..100).all(|_| a.below(10) < 10));
        assert_eq!(a.below(0), 0);
    }
}
