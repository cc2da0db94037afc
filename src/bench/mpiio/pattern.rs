//! The data pattern written and checked by `pvbench mpiio`.
//!
//! Byte `o` of a block is byte `o % 8` (little-endian) of the word `(o / 8) ^ key`, where `o`
//! is the offset in the file and `key` depends on the writing rank and the iteration. So a
//! block that lands at the wrong offset, comes from another rank or iteration, or was never
//! written (zeros, an older file) fails the check, not only an all-zero one.

/// What a checked read's buffer holds before the read: a run of equal bytes matches the
/// pattern in at most one word, so a read that moves no data fails the check.
pub const POISON: u8 = 0xa5;

/// The key of the block that `writer` wrote in `iteration` (splitmix64 finaliser, so keys of
/// neighbouring ranks and iterations differ in about half their bits).
pub fn block_key(writer: u32, iteration: u32) -> u64 {
    let mut z = ((u64::from(writer) << 32) | u64::from(iteration)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn expected_byte(file_offset: u64, key: u64) -> u8 {
    ((file_offset / 8) ^ key).to_le_bytes()[(file_offset % 8) as usize]
}

/// Splits `len` bytes at `file_offset` into an unaligned head, whole 8-byte words, and a tail.
fn split(file_offset: u64, len: usize) -> (usize, usize) {
    let head = (((8 - file_offset % 8) % 8) as usize).min(len);
    let words = (len - head) / 8;
    (head, words)
}

/// Fills `buf` with the pattern of the bytes at `file_offset..file_offset + buf.len()`.
pub fn fill(buf: &mut [u8], file_offset: u64, key: u64) {
    let (head, words) = split(file_offset, buf.len());
    let (head_bytes, rest) = buf.split_at_mut(head);
    for (i, byte) in head_bytes.iter_mut().enumerate() {
        *byte = expected_byte(file_offset + i as u64, key);
    }
    let first_word = (file_offset + head as u64) / 8;
    let (word_bytes, tail_bytes) = rest.split_at_mut(words * 8);
    for (i, chunk) in word_bytes.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&((first_word + i as u64) ^ key).to_le_bytes());
    }
    let tail_start = file_offset + (head + words * 8) as u64;
    for (i, byte) in tail_bytes.iter_mut().enumerate() {
        *byte = expected_byte(tail_start + i as u64, key);
    }
}

/// Where a buffer differs from the pattern: the first bad file offset and how many bytes differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch {
    pub first_bad_offset: u64,
    pub bad_bytes: u64,
}

/// Compares `buf` (read from `file_offset`) with the pattern; `None` when it matches.
pub fn check(buf: &[u8], file_offset: u64, key: u64) -> Option<Mismatch> {
    let mut first_bad: Option<u64> = None;
    let mut bad_bytes = 0u64;
    let mut note = |offset: u64, differing: u64| {
        if differing > 0 {
            first_bad.get_or_insert(offset);
            bad_bytes += differing;
        }
    };
    let check_bytes = |bytes: &[u8], start: u64, note: &mut dyn FnMut(u64, u64)| {
        for (i, &byte) in bytes.iter().enumerate() {
            let offset = start + i as u64;
            note(offset, u64::from(byte != expected_byte(offset, key)));
        }
    };
    let (head, words) = split(file_offset, buf.len());
    check_bytes(&buf[..head], file_offset, &mut note);
    let first_word = (file_offset + head as u64) / 8;
    for (i, chunk) in buf[head..head + words * 8].chunks_exact(8).enumerate() {
        let got = u64::from_le_bytes(chunk.try_into().expect("chunks of 8"));
        let diff = got ^ ((first_word + i as u64) ^ key);
        if diff != 0 {
            // The first differing byte is the lowest non-zero byte of the little-endian diff.
            let word_offset = file_offset + (head + i * 8) as u64;
            let differing = diff.to_le_bytes().iter().filter(|&&b| b != 0).count() as u64;
            note(word_offset + u64::from(diff.trailing_zeros() / 8), differing);
        }
    }
    let tail_start = head + words * 8;
    check_bytes(&buf[tail_start..], file_offset + tail_start as u64, &mut note);
    first_bad.map(|first_bad_offset| Mismatch { first_bad_offset, bad_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_then_check_matches_at_any_alignment() {
        for offset in [0u64, 1, 7, 8, 13, 4096] {
            for len in [0usize, 1, 5, 8, 9, 31, 100] {
                let mut buf = vec![0u8; len];
                fill(&mut buf, offset, block_key(3, 2));
                assert_eq!(check(&buf, offset, block_key(3, 2)), None, "offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn pattern_is_the_same_whether_filled_whole_or_in_pieces() {
        let key = block_key(1, 4);
        let mut whole = vec![0u8; 64];
        fill(&mut whole, 11, key);
        let mut pieces = vec![0u8; 64];
        let (a, b) = pieces.split_at_mut(21);
        fill(a, 11, key);
        fill(b, 32, key);
        assert_eq!(whole, pieces);
    }

    #[test]
    fn check_reports_first_bad_offset_and_count() {
        let key = block_key(0, 0);
        let mut buf = vec![0u8; 64];
        fill(&mut buf, 1000, key);
        buf[5] ^= 0xff;
        buf[40] ^= 0x01;
        buf[41] ^= 0x01;
        assert_eq!(check(&buf, 1000, key), Some(Mismatch { first_bad_offset: 1005, bad_bytes: 3 }));
    }

    #[test]
    fn misplaced_foreign_and_zero_blocks_are_caught() {
        let mut buf = vec![0u8; 256];
        fill(&mut buf, 0, block_key(0, 0));
        assert!(check(&buf, 256, block_key(0, 0)).is_some(), "right data at the wrong offset");
        assert!(check(&buf, 0, block_key(1, 0)).is_some(), "another rank's block");
        assert!(check(&buf, 0, block_key(0, 1)).is_some(), "another iteration's block");
        assert!(check(&[0u8; 256], 0, block_key(0, 0)).is_some(), "a hole");
    }

    #[test]
    fn keys_differ_between_ranks_and_iterations() {
        assert_ne!(block_key(0, 1), block_key(1, 0));
        assert_ne!(block_key(0, 0), block_key(0, 1));
    }
}
