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

/// Append lower-case hex.
pub fn hex_encode(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
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
}
