//! AWS's validation layer is Java and keeps names in `java.util.HashMap`s, so the order in
//! which it reports structure members, and in which it prints a map's entries, is a
//! HashMap's iteration order: by bucket (`(h ^ h >>> 16) & (capacity - 1)` of
//! `String.hashCode()`), entries sharing a bucket in insertion order. Captured AWS messages
//! agree: e.g. `'{de onde?=…, Quem foi?=…, o que?=…}'` for a map sent in the order
//! "Quem foi?", "o que?", "de onde?", and `execution` before `domain`, `writeCapacityUnits`
//! before `readCapacityUnits`, `groupName` before `username`.

/// `java.lang.String.hashCode()`: over UTF-16 code units, wrapping.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The table size a default `HashMap` reaches after `len` insertions (load factor 0.75).
pub fn capacity_for(len: usize) -> usize {
    let mut capacity = 16;
    while len > capacity / 4 * 3 {
        capacity *= 2;
    }
    capacity
}

/// The bucket `key` lands in for a table of `capacity` slots.
fn bucket(key: &str, capacity: usize) -> usize {
    // Reinterpreting the hash's bits is the point: Java works on the unsigned pattern.
    let h = string_hash(key) as u32;
    ((h ^ (h >> 16)) as usize) & (capacity - 1)
}

/// Indexes of `keys` (given in insertion order) in the order a `HashMap` holding them
/// iterates. Resizing splits buckets without reordering, so the final table decides.
pub fn iteration_order<S: AsRef<str>>(keys: &[S]) -> Vec<usize> {
    let capacity = capacity_for(keys.len());
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| bucket(keys[i].as_ref(), capacity));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ordered<'a>(keys: &[&'a str]) -> Vec<&'a str> {
        iteration_order(keys).into_iter().map(|i| keys[i]).collect()
    }

    #[test]
    fn hash_matches_java() {
        // Values of "...".hashCode() as a JVM prints them.
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("keyId"), 101_944_282);
        assert_eq!(string_hash("Hello, World"), -505_841_268);
    }

    #[test]
    fn capacity_grows_past_three_quarters() {
        assert_eq!(capacity_for(0), 16);
        assert_eq!(capacity_for(12), 16);
        assert_eq!(capacity_for(13), 32);
        assert_eq!(capacity_for(24), 32);
        assert_eq!(capacity_for(25), 64);
    }

    #[test]
    fn orders_like_captured_aws_messages() {
        assert_eq!(
            ordered(&["Quem foi?", "o que?", "de onde?"]),
            ["de onde?", "Quem foi?", "o que?"]
        );
        assert_eq!(ordered(&["domain", "execution"]), ["execution", "domain"]);
        assert_eq!(
            ordered(&["readCapacityUnits", "writeCapacityUnits"]),
            ["writeCapacityUnits", "readCapacityUnits"]
        );
        assert_eq!(
            ordered(&["userPoolId", "username", "groupName"]),
            ["groupName", "userPoolId", "username"]
        );
    }

    #[test]
    fn same_bucket_keeps_insertion_order() {
        // "Aa" and "BB" share a hash in Java.
        assert_eq!(string_hash("Aa"), string_hash("BB"));
        assert_eq!(ordered(&["BB", "Aa"]), ["BB", "Aa"]);
        assert_eq!(ordered(&["Aa", "BB"]), ["Aa", "BB"]);
    }
}
