//! Byte helpers that the parsers, the scan and the writers share, and that need nothing
//! else of the crate (a leaf, so that no module has to import another one back):
//! eight bytes at a time (SWAR) and lower-case hex.

/// Each byte 1: times a byte, that byte in all eight lanes of a word.
pub const LO: u64 = 0x0101_0101_0101_0101;
const HI7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each zero byte of `t`, exactly (no false positives from borrows).
#[inline(always)]
#[allow(clippy::inline_always)] // measured: it must inline into the parsers' loops
pub(crate) fn zero_bytes(t: u64) -> u64 {
    !(((t & HI7).wrapping_add(HI7)) | t | HI7)
}

/// Whether `v` holds one of the bytes of `set`: eight bytes at a time, with no branch per
/// byte (the writers ask it of every short field: measured faster than a byte loop, and
/// than memchr's vector set-up, below 64 bytes).
#[inline]
pub fn has_any(v: &[u8], set: [u8; 4]) -> bool {
    let lanes = set.map(|b| LO * u64::from(b));
    let hits = |w: u64| lanes.iter().fold(0, |f, &l| f | zero_bytes(w ^ l));
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
    let mut words = v.chunks_exact(8);
    let mut found = 0;
    for w in &mut words {
        found |= hits(word(w));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        found |= if v.len() >= 8 {
            // The last eight bytes, again in part.
            hits(word(&v[v.len() - 8..]))
        } else {
            // Padded with a byte that is not in the set.
            let pad = (0x80..=0x84).find(|p| !set.contains(p)).unwrap_or(0x85);
            let mut w = [pad; 8];
            w[..rest.len()].copy_from_slice(rest);
            hits(u64::from_le_bytes(w))
        };
    }
    found != 0
}

/// Append lower-case hex.
pub fn hex_encode(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let start = out.len();
    out.resize(start + bytes.len() * 2, 0);
    for (pair, &b) in out[start..].chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bytes_and_hex() {
        assert_eq!(zero_bytes(0x0100_0000_0000_00ff), 0x0080_8080_8080_8000);
        let mut out = Vec::new();
        hex_encode(&[0, 0xab, 0xff], &mut out);
        assert_eq!(out, b"00abff");
    }

    #[test]
    fn any_of_a_set() {
        let set = [b',', b'"', b'\n', b'\r'];
        for len in 0..40 {
            for at in 0..len {
                for &b in &set {
                    let mut v = vec![b'x'; len];
                    v[at] = b;
                    assert!(has_any(&v, set), "{len} {at} {b}");
                }
            }
            assert!(!has_any(&vec![b'x'; len], set));
            // High bytes and neighbours of the set's bytes are no match.
            assert!(!has_any(&vec![0xAC; len], set));
            assert!(!has_any(&vec![b'+'; len], set));
            assert!(!has_any(&vec![b'x'; len], [0x80, 0x81, 0x82, 0x83]));
        }
    }
}
