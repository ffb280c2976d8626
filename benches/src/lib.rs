//! Inputs shared by armature's benchmarks.

/// `n` uniformly random 32-bit words from a fixed seed (splitmix64), the same on every run.
pub fn random_words(n: usize, seed: u64) -> Vec<u32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_are_deterministic_and_spread() {
        let a = super::random_words(1000, 7);
        assert_eq!(a, super::random_words(1000, 7));
        assert_ne!(a, super::random_words(1000, 8));
        let high_bits_set = a.iter().filter(|w| **w & 0x8000_0000 != 0).count();
        assert!((400..600).contains(&high_bits_set), "{high_bits_set}");
    }
}
