//! librdkafka's key partitioners, for `partition_key`: the partition a message would get if
//! its partition key were its key, without setting the key.
//!
//! WaterDrop (rdkafka-ruby) resolves `partition_key` with the producer's `partitioner`
//! setting (librdkafka's default `consistent_random`: CRC32 of the key), and librdkafka
//! places keyed messages with the same setting. karafka-rs does both the same way, so an app
//! switching from Karafka keeps every key on the partition it had (see README
//! "Partitioning"). `key` is placed by librdkafka itself; only `partition_key` goes through
//! [`Partitioner::partition`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// librdkafka's `partitioner` values. `*_random`: keyless (and for `consistent_random`,
/// empty-key) messages go to a random partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitioner {
    Random,
    Consistent,
    ConsistentRandom,
    Murmur2,
    Murmur2Random,
    Fnv1a,
    Fnv1aRandom,
}

impl Partitioner {
    /// librdkafka's default, and so WaterDrop's.
    pub const DEFAULT: Partitioner = Partitioner::ConsistentRandom;

    /// Parses librdkafka's name for a partitioner.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "random" => Self::Random,
            "consistent" => Self::Consistent,
            "consistent_random" => Self::ConsistentRandom,
            "murmur2" => Self::Murmur2,
            "murmur2_random" => Self::Murmur2Random,
            "fnv1a" => Self::Fnv1a,
            "fnv1a_random" => Self::Fnv1aRandom,
            _ => return None,
        })
    }

    /// The partition for a partition key, as rdkafka-ruby computes it: the key's first
    /// `String#size` bytes (its character count: rdkafka-ruby's default, kept for placement
    /// compatibility) are hashed, and an empty key is librdkafka's NULL key.
    pub fn partition_for_partition_key(self, partition_key: &[u8], partitions: i32) -> i32 {
        let length = std::str::from_utf8(partition_key)
            .map(|s| s.chars().count())
            .unwrap_or(partition_key.len());
        let key = &partition_key[..length];
        self.partition(if key.is_empty() { None } else { Some(key) }, partitions)
    }

    /// librdkafka's `rd_kafka_msg_partitioner_*` for `key` (`None`: a NULL key).
    pub fn partition(self, key: Option<&[u8]>, partitions: i32) -> i32 {
        assert!(partitions > 0, "a topic has at least one partition");
        let bytes = key.unwrap_or_default();
        let n = partitions as u32;
        match self {
            Self::Random => random_below(partitions),
            Self::ConsistentRandom if bytes.is_empty() => random_below(partitions),
            Self::Murmur2Random | Self::Fnv1aRandom if key.is_none() => random_below(partitions),
            Self::Consistent | Self::ConsistentRandom => (crc32(bytes) % n) as i32,
            Self::Murmur2 | Self::Murmur2Random => partition_for_key(bytes, partitions),
            Self::Fnv1a | Self::Fnv1aRandom => (fnv1a(bytes) % n) as i32,
        }
    }
}

/// CRC-32 (IEEE, zlib's), librdkafka's `rd_crc32`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xffff_ffff;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

/// librdkafka's `rd_fnv1a`: 32-bit FNV-1a, made positive as Sarama does.
pub fn fnv1a(data: &[u8]) -> u32 {
    let mut h: i32 = 0x811c_9dc5_u32 as i32;
    for byte in data {
        h ^= i32::from(*byte);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.wrapping_abs() as u32
}

/// A random partition for keyless messages (spread, not secure: a splitmix64 step).
fn random_below(partitions: i32) -> i32 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut seed = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    if seed == 0 {
        seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        STATE.store(seed, Ordering::Relaxed);
    }
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % partitions as u64) as i32
}

/// Kafka's `Utils.murmur2`: MurmurHash2 with Kafka's seed, as a signed 32-bit value.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The murmur2 partition for `key` among `partitions` (Java's `toPositive(murmur2) % n`).
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    assert!(partitions > 0, "a topic has at least one partition");
    (murmur2(key) & 0x7fff_ffff) % partitions
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::bindings as rd;
    use std::ptr;

    // The vectors of Kafka's own UtilsTest#testMurmur2.
    #[test]
    fn matches_the_java_client() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(
                murmur2(input),
                expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    // CRC-32's check value and zlib's (Ruby's Zlib.crc32) for a few keys.
    #[test]
    fn crc32_matches_the_standard_vectors() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"a"), 0xe8b7_be43);
        assert_eq!(crc32(b"user-1"), 0x7e26_4614);
        // Zlib.crc32("user-1") % 6
        assert_eq!(Partitioner::Consistent.partition(Some(b"user-1"), 6), 2);
    }

    fn keys() -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = (0..500).map(|i| format!("user-{i}").into_bytes()).collect();
        keys.push(b"a".to_vec());
        keys.push("zażółć-ключ-鍵".as_bytes().to_vec());
        keys.push((0..=255u8).collect());
        keys
    }

    /// librdkafka's own partitioner function for `key` (none of these touches the topic).
    fn librdkafka(name: Partitioner, key: &[u8], partitions: i32) -> i32 {
        let f = match name {
            Partitioner::Consistent => rd::rd_kafka_msg_partitioner_consistent,
            Partitioner::ConsistentRandom => rd::rd_kafka_msg_partitioner_consistent_random,
            Partitioner::Murmur2 => rd::rd_kafka_msg_partitioner_murmur2,
            Partitioner::Murmur2Random => rd::rd_kafka_msg_partitioner_murmur2_random,
            Partitioner::Fnv1a => rd::rd_kafka_msg_partitioner_fnv1a,
            Partitioner::Fnv1aRandom => rd::rd_kafka_msg_partitioner_fnv1a_random,
            Partitioner::Random => unreachable!("random needs a topic handle"),
        };
        // SAFETY: the hashing partitioners read `keylen` bytes of `key` and nothing else
        // (the topic handle is only used by the random branch, never taken for a key).
        unsafe {
            f(
                ptr::null(),
                key.as_ptr().cast(),
                key.len(),
                partitions,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        }
    }

    #[test]
    fn keyed_placement_is_librdkafkas_for_every_hashing_partitioner() {
        let all = [
            Partitioner::Consistent,
            Partitioner::ConsistentRandom,
            Partitioner::Murmur2,
            Partitioner::Murmur2Random,
            Partitioner::Fnv1a,
            Partitioner::Fnv1aRandom,
        ];
        for partitioner in all {
            for partitions in [1, 2, 3, 6, 7, 32, 100] {
                for key in keys() {
                    assert_eq!(
                        partitioner.partition(Some(&key), partitions),
                        librdkafka(partitioner, &key, partitions),
                        "{partitioner:?} {partitions} {key:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn parses_librdkafkas_names_and_defaults_to_consistent_random() {
        assert_eq!(
            Partitioner::parse("murmur2_random"),
            Some(Partitioner::Murmur2Random)
        );
        assert_eq!(Partitioner::parse("fnv1a"), Some(Partitioner::Fnv1a));
        assert_eq!(Partitioner::parse("crc"), None);
        assert_eq!(Partitioner::DEFAULT, Partitioner::ConsistentRandom);
    }

    #[test]
    fn partition_keys_hash_their_character_count_of_bytes_like_rdkafka_ruby() {
        let key = "ключ-7".as_bytes();
        let prefix = &key[..6]; // "ключ-7".size == 6 characters
        assert_eq!(
            Partitioner::Consistent.partition_for_partition_key(key, 97),
            (crc32(prefix) % 97) as i32
        );
        assert_eq!(
            Partitioner::Consistent.partition_for_partition_key(b"user-1", 6),
            2
        );
        // Empty: librdkafka's NULL key (crc32 of nothing for `consistent`, random otherwise).
        assert_eq!(
            Partitioner::Consistent.partition_for_partition_key(b"", 6),
            0
        );
        for _ in 0..50 {
            let p = Partitioner::ConsistentRandom.partition_for_partition_key(b"", 6);
            assert!((0..6).contains(&p));
        }
    }

    #[test]
    fn keyless_messages_spread_over_partitions() {
        let mut seen = [false; 6];
        for _ in 0..600 {
            seen[Partitioner::Murmur2Random.partition(None, 6) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn partition_is_stable_and_in_range() {
        for n in 1..20 {
            let p = partition_for_key(b"user-7", n);
            assert!((0..n).contains(&p));
            assert_eq!(p, partition_for_key(b"user-7", n));
        }
    }
}
