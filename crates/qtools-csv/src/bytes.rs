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

/// What one look at a record's bytes tells a loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Survey {
    /// Some byte is below `below` or equals `eq` (LOAD DATA's bytes to escape: below 14,
    /// and the backslash).
    pub special: bool,
    /// Every byte is ASCII.
    pub ascii: bool,
}

/// Survey `v`: 16 bytes at a time with SSE2 compares on x86-64 (no early exit: most
/// records have neither), eight at a time with word arithmetic elsewhere. Measured on a
/// load: half the instructions of the word test it replaced, and the ASCII test of each
/// text value comes with it.
pub fn survey(v: &[u8], below: u8, eq: u8) -> Survey {
    #[cfg(target_arch = "x86_64")]
    {
        use safe_arch::{
            cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
            set_splat_i8_m128i, zeroed_m128i,
        };
        let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
        let (low, same) = (splat(below.wrapping_sub(1)), splat(eq));
        let (mut special, mut high) = (zeroed_m128i(), zeroed_m128i());
        let mut look = |c: &[u8; 16]| {
            let x = load_unaligned_m128i(c);
            // x <= below - 1 exactly where min(x, below - 1) == x.
            special = special
                | cmp_eq_mask_i8_m128i(min_u8_m128i(x, low), x)
                | cmp_eq_mask_i8_m128i(x, same);
            high |= x;
        };
        let mut chunks = v.chunks_exact(16);
        for c in &mut chunks {
            look(c.try_into().unwrap_or(&[0; 16]));
        }
        if !chunks.remainder().is_empty() {
            if let Some(last) = v.last_chunk::<16>() {
                // The last 16 bytes, again in part.
                look(last);
            } else {
                // Padded with a byte that is neither.
                let mut c = [if below > b'a' || eq == b'a' {
                    0x7F
                } else {
                    b'a'
                }; 16];
                c[..v.len()].copy_from_slice(v);
                look(&c);
            }
        }
        Survey {
            special: move_mask_i8_m128i(special) != 0,
            ascii: move_mask_i8_m128i(high) == 0,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    survey_words(v, below, eq)
}

/// [`survey`] eight bytes at a time, with word arithmetic (off x86-64, and the check of
/// the SSE2 way in the tests).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn survey_words(v: &[u8], below: u8, eq: u8) -> Survey {
    let less = |x: u64, n: u64| x.wrapping_sub(LO * n) & !x & (LO << 7);
    let eqs = LO * u64::from(eq);
    let (mut special, mut high) = (0, 0);
    let mut words = v.chunks_exact(8);
    let mut look = |w: u64| {
        special |= less(w, u64::from(below)) | zero_bytes(w ^ eqs);
        high |= w;
    };
    for w in &mut words {
        look(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
    }
    for &b in words.remainder() {
        look(u64::from(b) | ((LO & !0xFF) * u64::from(b'a')));
    }
    Survey {
        special: special != 0,
        ascii: high & (LO << 7) == 0,
    }
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
    fn a_survey_finds_every_special_and_high_byte() {
        // Fillers next to the limits, where a borrow could make a false alarm.
        for fill in [b'x', 14, b'\\' + 1, b'\\' - 1, 0x7f, 0x80, 0xff] {
            for len in 0..50 {
                let plain = vec![fill; len];
                let ascii = fill < 0x80 || len == 0;
                let none = Survey {
                    special: false,
                    ascii,
                };
                assert_eq!(survey(&plain, 14, b'\\'), none, "{len}");
                assert_eq!(survey_words(&plain, 14, b'\\'), none, "{len}");
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut v = plain.clone();
                        v[at] = b;
                        let want = Survey {
                            special: b < 14 || b == b'\\',
                            ascii: b < 0x80 && (fill < 0x80 || len == 1),
                        };
                        let why = format!("{b} at {at} of {len} in {fill}");
                        assert_eq!(survey(&v, 14, b'\\'), want, "{why}");
                        assert_eq!(survey_words(&v, 14, b'\\'), want, "{why}");
                    }
                }
            }
        }
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
