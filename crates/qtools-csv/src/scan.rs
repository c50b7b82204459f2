//! The fast structural scan of a CSV block: where records end, found 64 bytes at a time
//! with bit masks instead of a byte-by-byte parse (the technique of simdjson and of
//! simdcsv). On x86-64 the masks come from AVX2 compares when the CPU has them (detected
//! at run time; the crate's one `unsafe`, in `avx2`), else from SSE2 compares (the
//! x86-64 baseline, through `safe_arch`); elsewhere from portable SWAR on `u64` words.
//!
//! For each 64-byte chunk we build masks of the quotes, line feeds, carriage returns and
//! delimiters; a prefix XOR of the quote mask says which bytes are inside quotes, and the
//! line feeds outside quotes are the record ends. That is quote *parity*, which equals the
//! field states of [`crate::record::parse_record`] only for well-formed input, so the scan
//! also checks every quote: one that opens must start a field (or be the second of a `""`),
//! one that closes must end one. Anything the masks cannot decide the same way as the
//! parser (a bare quote inside an unquoted field, text after a closing quote, a lone CR
//! line end, a blank line, a block that ends inside quotes) makes [`scan`] return `None`,
//! and the caller parses that block in full instead. So the answer is always the parser's;
//! the scan only makes the common case fast (measured on the benchmark CSV, one core of
//! an EPYC: about 3.4 GB/s with AVX2 and 2 GB/s with SSE2, with the checks and record
//! ends, against 0.7 GB/s for the full parse).
#![allow(clippy::inline_always)] // measured: the mask helpers must inline into the loop

// The portable masks (SWAR) use them; x86-64 builds take SSE2 or AVX2 instead.
#[cfg_attr(target_arch = "x86_64", allow(unused_imports))]
use crate::bytes::{zero_bytes, LO};

/// The 8 high bits of [`zero_bytes`] gathered into the low byte, byte 0 first.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn gather(m: u64) -> u64 {
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// A 64-byte chunk loaded for byte compares: the one step the scan does per instruction
/// set.
trait Masks: Sized {
    /// Whether `count_ones` is one instruction.
    const POPCNT: bool = false;
    fn load(c: &[u8; 64]) -> Self;
    /// Bit `i` set when byte `i` is `b`.
    fn eq(&self, b: u8) -> u64;
    /// Bit `i` set when an odd number of bits `0..=i` of `x` are set.
    #[inline(always)]
    fn prefix_xor(x: u64) -> u64 {
        prefix_xor(x)
    }
}

/// One 64-byte chunk, in SSE2 registers (the x86-64 baseline).
#[cfg(target_arch = "x86_64")]
struct Chunk([safe_arch::m128i; 4]);

#[cfg(target_arch = "x86_64")]
impl Masks for Chunk {
    #[inline(always)]
    fn load(c: &[u8; 64]) -> Chunk {
        let part = |k: usize| {
            let mut b = [0u8; 16];
            b.copy_from_slice(&c[16 * k..16 * k + 16]);
            safe_arch::load_unaligned_m128i(&b)
        };
        Chunk([part(0), part(1), part(2), part(3)])
    }

    #[inline(always)]
    fn eq(&self, b: u8) -> u64 {
        use safe_arch::{cmp_eq_mask_i8_m128i, move_mask_i8_m128i, set_splat_i8_m128i};
        let pat = set_splat_i8_m128i(i8::from_ne_bytes([b]));
        let mut m = 0u64;
        for (k, v) in self.0.iter().enumerate() {
            let bits = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(*v, pat));
            m |= u64::from(u32::from_ne_bytes(bits.to_ne_bytes()) & 0xffff) << (16 * k);
        }
        m
    }
}

#[cfg(not(target_arch = "x86_64"))]
struct Chunk([u64; 8]);

#[cfg(not(target_arch = "x86_64"))]
impl Masks for Chunk {
    #[inline(always)]
    fn load(c: &[u8; 64]) -> Chunk {
        let mut words = [0u64; 8];
        for (k, w) in words.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&c[8 * k..8 * k + 8]);
            *w = u64::from_le_bytes(b);
        }
        Chunk(words)
    }

    #[inline(always)]
    fn eq(&self, b: u8) -> u64 {
        let pat = LO * u64::from(b);
        let mut m = 0;
        for (k, w) in self.0.iter().enumerate() {
            m |= gather(zero_bytes(w ^ pat)) << (8 * k);
        }
        m
    }
}

/// Bit `i` set when an odd number of bits `0..=i` of `x` are set.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// What a block held, when the scan could decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// Records (the last one may lack its line end).
    pub records: u64,
    /// Line feeds, quoted ones included (for line numbers in messages).
    pub lines: u64,
}

/// Scan `block`, which starts at a record boundary, as [`crate::pipeline::walk_block`]
/// would walk it: the number of records and lines, and (when `ends` is given) the end
/// offset (exclusive) of each record, pushed in order. `None` when the block needs the
/// full parser (see the module doc); `ends` is then left in an unspecified state.
pub fn scan(block: &[u8], delim: u8, ends: Option<&mut Vec<usize>>) -> Option<Scanned> {
    #[cfg(target_arch = "x86_64")]
    return avx2::scan(block, delim, ends);
    #[cfg(not(target_arch = "x86_64"))]
    scan_with::<Chunk>(block, delim, ends)
}

/// The scan, for one way of building the masks (inlined into each caller, so that the
/// AVX2 caller compiles it all with AVX2). Blocks without a CR, nearly all, get a loop
/// without the CR checks.
#[inline(always)]
fn scan_with<C: Masks>(block: &[u8], delim: u8, ends: Option<&mut Vec<usize>>) -> Option<Scanned> {
    if memchr::memchr(b'\r', block).is_some() {
        scan_chunks::<C, true>(block, delim, ends)
    } else {
        scan_chunks::<C, false>(block, delim, ends)
    }
}

/// What the scan carries from one 64-byte chunk to the next: the previous chunk's masks,
/// of which the next uses the top bits (its last bytes).
struct Carry {
    /// All ones when the previous chunk ended inside quotes.
    inside: u64,
    /// Bytes after which a quote may open a field.
    sep: u64,
    close: u64,
    cr_out: u64,
    /// Record ends.
    end: u64,
    cr: u64,
}

/// One chunk's masks, as the loop needs them.
struct Step {
    /// Record ends.
    end: u64,
    /// Line feeds.
    n: u64,
    /// Bytes inside quotes.
    inside: u64,
    /// Anything the parser might take otherwise.
    bad: u64,
}

/// Scan one chunk whose last real byte is `top` (63 but for the block's last chunk,
/// padded with zeros: `valid` masks its real bytes).
#[inline(always)]
fn step<C: Masks, const CR: bool>(
    st: &mut Carry,
    words: &C,
    delim: u8,
    valid: u64,
    top: u32,
) -> Step {
    let q = words.eq(b'"');
    let n = words.eq(b'\n');
    let r = if CR { words.eq(b'\r') } else { 0 };
    let d = words.eq(delim);
    let inside = C::prefix_xor(q) ^ st.inside;
    let end = n & !inside;
    // Quotes must sit where the parser would take them the same way.
    let open = q & inside;
    let close = q & !inside;
    let sep = d | n | r | close;
    // An opening quote starts a field (or is the second quote of a `""`).
    let mut bad = open & !((sep << 1) | (st.sep >> 63));
    // A closing quote ends the field (or is the first quote of a `""`).
    let after_close = (close << 1) | (st.close >> 63);
    bad |= after_close & !(d | n | r | q) & valid;
    // A blank line: a record end right after a record end...
    let ends_before = (end << 1) | (st.end >> 63);
    bad |= end & ends_before;
    let cr_out = r & !inside;
    if CR {
        // ... or after one plus a CR.
        let ends_before2 = (end << 2) | (st.end >> 62);
        let cr_before = (r << 1) | (st.cr >> 63);
        bad |= end & cr_before & ends_before2;
        // A CR outside quotes must be followed by LF (a lone CR ends a record for the
        // parser).
        bad |= ((cr_out << 1) | (st.cr_out >> 63)) & !n & valid;
    }
    st.inside = 0u64.wrapping_sub((inside >> top) & 1);
    st.sep = sep;
    st.close = ((close >> top) & 1) << 63;
    st.cr_out = ((cr_out >> top) & 1) << 63;
    st.end = end;
    st.cr = r;
    Step {
        end: end & valid,
        n,
        inside,
        bad,
    }
}

#[inline(always)]
fn scan_chunks<C: Masks, const CR: bool>(
    block: &[u8],
    delim: u8,
    mut ends: Option<&mut Vec<usize>>,
) -> Option<Scanned> {
    // The block start behaves as if a record had just ended there.
    let mut st = Carry {
        inside: 0,
        sep: 1 << 63,
        close: 0,
        cr_out: 0,
        end: 1 << 63,
        cr: 0,
    };
    // Without a popcount instruction (x86-64's baseline has none) the line feeds are
    // counted by memchr at memory speed, and the few inside quotes taken off to give
    // the records.
    let mut lines = if C::POPCNT {
        0
    } else {
        memchr::memchr_iter(b'\n', block).count() as u64
    };
    let mut records = 0u64;
    let mut quoted_lines = 0u64;
    let mut base = 0;
    let mut rest = block;
    let mut pad = [0u8; 64];
    loop {
        let (chunk, valid, top) = if let Some((c, tail)) = rest.split_first_chunk::<64>() {
            rest = tail;
            (c, !0u64, 63)
        } else if rest.is_empty() {
            break;
        } else {
            pad[..rest.len()].copy_from_slice(rest);
            let len = rest.len();
            rest = &[];
            (&pad, (1u64 << len) - 1, len as u32 - 1)
        };
        let s = step::<C, CR>(&mut st, &C::load(chunk), delim, valid, top);
        if s.bad != 0 {
            return None;
        }
        if C::POPCNT {
            lines += u64::from(s.n.count_ones());
            records += u64::from(s.end.count_ones());
        } else {
            let in_quotes = s.n & s.inside;
            if in_quotes != 0 {
                quoted_lines += u64::from(in_quotes.count_ones());
            }
        }
        if let Some(ends) = ends.as_deref_mut() {
            let mut m = s.end;
            while m != 0 {
                ends.push(base + m.trailing_zeros() as usize + 1);
                m &= m - 1;
            }
        }
        base += 64;
    }
    // The block must not end inside quotes, nor with a lone CR.
    if st.inside != 0 || st.cr_out >> 63 != 0 {
        return None;
    }
    if !C::POPCNT {
        records = lines - quoted_lines;
    }
    if !block.is_empty() && !block.ends_with(b"\n") {
        // The last record has no line end (the end of the input).
        records += 1;
        if let Some(ends) = ends {
            ends.push(block.len());
        }
    }
    Some(Scanned { records, lines })
}

/// The scan with AVX2 masks and a carry-less multiply for the prefix XOR, chosen at run
/// time when the CPU has them: on the benchmark CSV it takes about half the time of the
/// SSE2 masks. The only `unsafe` of the crate lives here: calling a function compiled for
/// features the baseline lacks is sound only once they are detected, and the intrinsics
/// load through pointers.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x,
    };

    use super::{Masks, Scanned};

    /// The scan with AVX2 masks, or with the SSE2 ones of the x86-64 baseline when this
    /// CPU lacks AVX2 or PCLMULQDQ. It checks the features itself (std caches the
    /// answer), so it is safe to call from anywhere, whatever the caller knows.
    pub fn scan(block: &[u8], delim: u8, ends: Option<&mut Vec<usize>>) -> Option<Scanned> {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("pclmulqdq")) {
            return super::scan_with::<super::Chunk>(block, delim, ends);
        }
        // SAFETY: just checked: the CPU has AVX2 and PCLMULQDQ.
        unsafe { scan_avx2(block, delim, ends) }
    }

    /// [`super::marks`] with AVX2 compares when the CPU has them.
    pub fn marks(block: &[u8], len: usize, set: [u8; 4], out: &mut Vec<u32>) {
        if !is_x86_feature_detected!("avx2") {
            return super::marks_with::<super::Chunk>(block, len, set, out);
        }
        // SAFETY: just checked: the CPU has AVX2.
        unsafe { marks_avx2(block, len, set, out) }
    }

    /// Written out with the intrinsics, 32 bytes at a time, and no closures (see
    /// [`any32`]): through [`Masks`] the compiler rebuilt each compare's bytes one by one
    /// (measured: 17% of a whole export in this function).
    #[target_feature(enable = "avx2")]
    unsafe fn marks_avx2(block: &[u8], len: usize, set: [u8; 4], out: &mut Vec<u32>) {
        out.clear();
        let len = len.min(block.len());
        let (whole, rest) = (len / 32, len % 32);
        out.reserve(whole + 1);
        let pats = [
            _mm256_set1_epi8(i8::from_ne_bytes([set[0]])),
            _mm256_set1_epi8(i8::from_ne_bytes([set[1]])),
            _mm256_set1_epi8(i8::from_ne_bytes([set[2]])),
            _mm256_set1_epi8(i8::from_ne_bytes([set[3]])),
        ];
        let p = block.as_ptr();
        for k in 0..whole {
            // SAFETY: the 32 bytes at 32 * k lie inside `block[..len]`.
            out.push(unsafe { any32(_mm256_loadu_si256(p.add(32 * k).cast()), &pats) });
        }
        if rest == 0 {
            return;
        }
        let at = 32 * whole;
        // SAFETY: each load reads 32 bytes inside `block`, or inside `last`.
        let m = unsafe {
            if at + 32 <= block.len() {
                any32(_mm256_loadu_si256(p.add(at).cast()), &pats)
            } else if len >= 32 {
                any32(_mm256_loadu_si256(p.add(len - 32).cast()), &pats) >> (32 - rest)
            } else {
                let mut last = [0u8; 32];
                last[..rest].copy_from_slice(&block[at..len]);
                any32(_mm256_loadu_si256(last.as_ptr().cast()), &pats)
            }
        };
        out.push(m & ((1u32 << rest) - 1));
    }

    /// Bit `i` set when byte `i` of `v` is one of `pats`' bytes. A function, not a
    /// closure: closures do not take the target features of the function around them.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn any32(v: __m256i, pats: &[__m256i; 4]) -> u32 {
        let a = _mm256_or_si256(_mm256_cmpeq_epi8(v, pats[0]), _mm256_cmpeq_epi8(v, pats[1]));
        let b = _mm256_or_si256(_mm256_cmpeq_epi8(v, pats[2]), _mm256_cmpeq_epi8(v, pats[3]));
        // A bit pattern, not a number: the sign bit is byte 31's.
        #[allow(clippy::cast_sign_loss)]
        let m = _mm256_movemask_epi8(_mm256_or_si256(a, b)) as u32;
        m
    }

    #[target_feature(enable = "avx2,pclmulqdq,popcnt")]
    unsafe fn scan_avx2(block: &[u8], delim: u8, ends: Option<&mut Vec<usize>>) -> Option<Scanned> {
        super::scan_with::<Chunk>(block, delim, ends)
    }

    /// One 64-byte chunk in two AVX2 registers. Built only inside `scan_avx2`, whose
    /// features its methods use once inlined there.
    struct Chunk(__m256i, __m256i);

    impl Masks for Chunk {
        const POPCNT: bool = true;

        #[inline(always)]
        fn load(c: &[u8; 64]) -> Chunk {
            // SAFETY: both unaligned loads read 32 bytes inside the 64 of `c`; AVX2 is
            // there (see the type's doc).
            unsafe {
                Chunk(
                    _mm256_loadu_si256(c.as_ptr().cast()),
                    _mm256_loadu_si256(c.as_ptr().add(32).cast()),
                )
            }
        }

        #[inline(always)]
        fn eq(&self, b: u8) -> u64 {
            // SAFETY: AVX2 is there (see the type's doc).
            unsafe {
                let pat = _mm256_set1_epi8(i8::from_ne_bytes([b]));
                let lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(self.0, pat));
                let hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(self.1, pat));
                u64::from(u32::from_ne_bytes(lo.to_ne_bytes()))
                    | u64::from(u32::from_ne_bytes(hi.to_ne_bytes())) << 32
            }
        }

        #[inline(always)]
        fn prefix_xor(x: u64) -> u64 {
            // SAFETY: PCLMULQDQ is there (see the type's doc). A carry-less multiply by
            // all ones XORs every bit into all the bits above it.
            unsafe {
                let v = _mm_set_epi64x(0, i64::from_ne_bytes(x.to_ne_bytes()));
                let ones = _mm_set_epi64x(0, -1);
                let p = _mm_cvtsi128_si64(_mm_clmulepi64_si128::<0>(v, ones));
                u64::from_ne_bytes(p.to_ne_bytes())
            }
        }
    }
}

/// Mark the first `len` bytes of `block` that are in `set`: bit `i % 32` of `out[i / 32]`
/// is set when `block[i]` is one of them (`out` is cleared first). A CSV writer asks this
/// once per row (the delimiter, quote, CR, LF) instead of once per value: see [`marked`].
/// Bytes of `block` past `len` may be read (a whole last chunk, then masked off): passing
/// them spares a copy of the last partial chunk. Words of 32 bits, not 64: joining two
/// AVX2 masks into one `u64` made the compiler take them apart bit by bit (measured).
pub fn marks(block: &[u8], len: usize, set: [u8; 4], out: &mut Vec<u32>) {
    #[cfg(target_arch = "x86_64")]
    return avx2::marks(block, len, set, out);
    #[cfg(not(target_arch = "x86_64"))]
    marks_with::<Chunk>(block, len, set, out)
}

// No closures here: they would not take the AVX2 caller's target features.
#[inline(always)]
fn marks_with<C: Masks>(block: &[u8], len: usize, set: [u8; 4], out: &mut Vec<u32>) {
    out.clear();
    let len = len.min(block.len());
    let mut at = 0;
    while at < len {
        let n = (len - at).min(64);
        let c = if at + 64 <= block.len() {
            C::load(block[at..at + 64].try_into().unwrap_or(&[0; 64]))
        } else {
            let mut last = [0u8; 64];
            last[..n].copy_from_slice(&block[at..at + n]);
            C::load(&last)
        };
        let mut m = c.eq(set[0]) | c.eq(set[1]) | c.eq(set[2]) | c.eq(set[3]);
        if n < 64 {
            m &= (1u64 << n) - 1;
        }
        out.push(u32::try_from(m & 0xffff_ffff).unwrap_or(0));
        if n > 32 {
            out.push(u32::try_from(m >> 32).unwrap_or(0));
        }
        at += 64;
    }
}

/// Whether any byte of `start..end` is marked in `marks` (from [`marks`]).
#[inline]
pub fn marked(marks: &[u32], start: usize, end: usize) -> bool {
    if start >= end {
        return false;
    }
    let (first, last) = (start / 32, (end - 1) / 32);
    let lo = u32::MAX << (start % 32);
    let hi = u32::MAX >> (31 - (end - 1) % 32);
    if first == last {
        return marks.get(first).is_some_and(|m| m & lo & hi != 0);
    }
    marks.get(first).is_some_and(|m| m & lo != 0)
        || marks
            .get(first + 1..last)
            .is_some_and(|w| w.iter().any(|&m| m != 0))
        || marks.get(last).is_some_and(|m| m & hi != 0)
}

/// Whether `buf` holds an odd number of `b` bytes: the XOR of the per-byte match bits
/// has the parity of their count, and needs no count per step.
pub fn odd_count(buf: &[u8], b: u8) -> bool {
    let mut rest = buf;
    let odd;
    #[cfg(target_arch = "x86_64")]
    {
        use safe_arch::{
            bitxor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
            set_splat_i8_m128i, zeroed_m128i,
        };
        let pat = set_splat_i8_m128i(i8::from_ne_bytes([b]));
        let mut acc = zeroed_m128i();
        while let Some((c, tail)) = rest.split_first_chunk::<16>() {
            acc = bitxor_m128i(acc, cmp_eq_mask_i8_m128i(load_unaligned_m128i(c), pat));
            rest = tail;
        }
        odd = move_mask_i8_m128i(acc).count_ones();
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let pat = LO * u64::from(b);
        let mut acc = 0u64;
        while let Some((c, tail)) = rest.split_first_chunk::<8>() {
            acc ^= zero_bytes(u64::from_le_bytes(*c) ^ pat);
            rest = tail;
        }
        odd = acc.count_ones();
    }
    let odd = rest.iter().fold(odd, |odd, &x| odd ^ u32::from(x == b));
    odd & 1 == 1
}

/// One field of a raw record: its bytes are `raw[start..end]`, quotes included when it
/// is quoted.
#[derive(Debug, Clone, Copy)]
pub struct RawField {
    /// Where the field starts (its opening quote, when quoted).
    pub start: usize,
    /// One past its end (past its closing quote).
    pub end: usize,
    /// Whether it is quoted.
    pub quoted: bool,
}

impl RawField {
    /// The field's value (unescaped, through `scratch` only when it holds a `""`).
    #[inline]
    pub fn value<'a>(&self, raw: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
        if self.quoted {
            unescape(&raw[self.start + 1..self.end - 1], scratch)
        } else {
            &raw[self.start..self.end]
        }
    }
}

/// The fields of the raw record `raw` of a block [`scan`] accepted, in order, without a
/// parse (the shared walk of qgrep's candidates and qcount's group keys).
#[inline]
pub fn raw_fields(raw: &[u8], delim: u8) -> impl Iterator<Item = RawField> + '_ {
    let mut at = Some(0);
    std::iter::from_fn(move || {
        let start = at?;
        let quoted = raw.get(start) == Some(&b'"');
        let end = field_end(raw, start, delim, quoted);
        at = (raw.get(end) == Some(&delim)).then_some(end + 1);
        Some(RawField { start, end, quoted })
    })
}

/// The end of the field that starts at `at` in the raw record `raw` of a block [`scan`]
/// accepted (so its quotes are well-formed): the delimiter or line end after it, or the end of `raw`.
#[inline]
fn field_end(raw: &[u8], at: usize, delim: u8, quoted: bool) -> usize {
    let mut i = at;
    if quoted {
        i += 1;
        while let Some(q) = memchr::memchr(b'"', &raw[i..]) {
            i += q + 1;
            if raw.get(i) != Some(&b'"') {
                return i;
            }
            i += 1;
        }
        return raw.len();
    }
    memchr::memchr3(delim, b'\n', b'\r', &raw[i..]).map_or(raw.len(), |e| i + e)
}

/// A quoted field's value: its inner bytes with `""` made `"` (borrowed when there is
/// none).
#[inline]
fn unescape<'a>(inner: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    if memchr::memchr(b'"', inner).is_none() {
        return inner;
    }
    scratch.clear();
    let mut rest = inner;
    while let Some(q) = memchr::memchr(b'"', rest) {
        scratch.extend_from_slice(&rest[..=q]);
        rest = rest.get(q + 2..).unwrap_or_default();
    }
    scratch.extend_from_slice(rest);
    scratch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::walk_block;
    use crate::record::Record;
    use proptest::prelude::*;

    fn by_parser(block: &[u8]) -> (u64, u64, Vec<usize>) {
        let mut rec = Record::default();
        let mut ends = Vec::new();
        let mut at = 0;
        let shape = crate::pipeline::Shape {
            delim: b',',
            width: None,
            strict: false,
        };
        let w = walk_block(block, &shape, &mut rec, |_, raw| {
            at += raw.len();
            ends.push(at);
        });
        (w.records, w.lines, ends)
    }

    #[test]
    fn marked_ranges_agree_with_a_byte_by_byte_look() {
        let set = [b',', b'"', b'\n', b'\r'];
        let mut block = vec![b'x'; 300];
        for i in [0, 63, 64, 127, 130, 199, 205, 299] {
            block[i] = b',';
        }
        let (mut m, mut portable) = (Vec::new(), Vec::new());
        // Every length, with bytes after it (read, masked off) and without.
        for len in [0, 1, 63, 64, 65, 130, 200] {
            for room in [&block[..], &block[..len]] {
                marks(room, len, set, &mut m);
                // The masks of CPUs without AVX2 give the same words.
                marks_with::<Chunk>(room, len, set, &mut portable);
                assert_eq!(portable, m, "{len}");
                assert_eq!(m.len(), len.div_ceil(32));
                for start in 0..=len {
                    for end in start..=len {
                        let want = block[start..end].contains(&b',');
                        assert_eq!(marked(&m, start, end), want, "{len}: {start}..{end}");
                    }
                }
            }
        }
    }

    #[test]
    fn masks() {
        let mut chunk = [b'x'; 64];
        for i in [0, 7, 8, 15, 16, 33, 63] {
            chunk[i] = b'"';
        }
        assert_eq!(
            Chunk::load(&chunk).eq(b'"'),
            1 | 1 << 7 | 1 << 8 | 1 << 15 | 1 << 16 | 1 << 33 | 1 << 63
        );
        assert_eq!(Chunk::load(&chunk).eq(b'x').count_ones(), 57);
        assert_eq!(
            gather(zero_bytes(0x2200_0022_2222_0022 ^ (LO * 0x22))),
            0b1001_1101
        );
        assert_eq!(prefix_xor(0b1001), 0b0111);
        assert!(!odd_count(b"a\"b\"\"cdefghij\"", b'"'));
        assert!(odd_count(b"a\"b\"\"cdefghij\"\"", b'"'));
    }

    #[test]
    fn well_formed_blocks_are_scanned() {
        let block = b"1,\"a,\n\"\"b\"\"\",x\r\n2,,\"\"\n3,z";
        let mut ends = Vec::new();
        let s = scan(block, b',', Some(&mut ends)).unwrap();
        assert_eq!(
            s,
            Scanned {
                records: 3,
                lines: 3
            }
        );
        assert_eq!(ends, vec![16, 22, 25]);
        assert_eq!(by_parser(block).2, ends);
        // A delimiter ending one 64-byte chunk, a quote opening the next.
        let border = format!("{},\"x\"\n", "a".repeat(63));
        assert_eq!(scan(border.as_bytes(), b',', None).unwrap().records, 1);
        // Across chunk borders: a quoted field spanning 64-byte chunks.
        let long = format!("a,\"{}\n{}\"\nb,c\n", "x".repeat(70), "y".repeat(60));
        assert_eq!(scan(long.as_bytes(), b',', None).unwrap().records, 2);
    }

    #[test]
    fn what_the_masks_cannot_decide_goes_to_the_parser() {
        for block in [
            &b"a\"b,c\n"[..], // bare quote in an unquoted field
            b"\"ab\"c,d\n",   // text after a closing quote
            b"a\rb\n",        // lone CR line end
            b"a\n\nb\n",      // blank line
            b"\na\n",         // blank line at the start
            b"a\r\n\r\nb\n",  // blank CRLF line
            b"\"a\nb",        // ends inside quotes
            b"a,b\r",         // ends with a lone CR
        ] {
            assert_eq!(
                scan(block, b',', None),
                None,
                "{:?}",
                block.escape_ascii().to_string()
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        // Whenever the scan answers, it answers as the parser does.
        #[test]
        fn agrees_with_the_parser(parts in proptest::collection::vec(
            prop_oneof![Just("a"), Just(","), Just("\""), Just("\n"), Just("\r"), Just("\"\""),
                        Just("xyzxyzxyzxyzxyzxyzxyzxyzxyzxyz")], 0..60)) {
            let block: Vec<u8> = parts.concat().into_bytes();
            let mut ends = Vec::new();
            let found = scan(&block, b',', Some(&mut ends));
            // Every way of building the masks this CPU has gives the same answer.
            let mut base_ends = Vec::new();
            let base = scan_with::<Chunk>(&block, b',', Some(&mut base_ends));
            prop_assert_eq!(found, base);
            if found.is_some() {
                prop_assert_eq!(&ends, &base_ends);
            }
            if let Some(s) = found {
                let (records, lines, by_ends) = by_parser(&block);
                prop_assert_eq!((s.records, s.lines), (records, lines));
                prop_assert_eq!(&ends, &by_ends);
                // The raw field walk of qgrep and qcount -g gives the parser's values.
                let mut rec = Record::default();
                let mut scratch = Vec::new();
                let mut start = 0;
                for &end in &ends {
                    let raw = &block[start..end];
                    start = end;
                    crate::record::parse_record(raw, true, b',', false, &mut rec);
                    let fields: Vec<_> = raw_fields(raw, b',').collect();
                    prop_assert_eq!(fields.len(), rec.len());
                    for (f, (value, quoted)) in fields.iter().zip(rec.iter()) {
                        prop_assert_eq!(f.quoted, quoted);
                        prop_assert_eq!(f.value(raw, &mut scratch), value);
                    }
                }
            }
        }
    }

    #[test]
    fn real_looking_data_takes_the_fast_path() {
        let mut data = Vec::new();
        for i in 0..2000 {
            data.extend_from_slice(
                format!("{i},\"Doe, J\"\"r\"\"\",j{i}@gmail.com,\"line\nbreak\",,\"\"\r\n")
                    .as_bytes(),
            );
        }
        let s = scan(&data, b',', None).unwrap();
        assert_eq!(s.records, 2000);
        assert_eq!(scan_with::<Chunk>(&data, b',', None), Some(s));
        assert_eq!(by_parser(&data).0, 2000);
    }
}
