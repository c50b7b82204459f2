//! Guesses of the quote state in the middle of CSV, without reading from its start:
//! where the block engine cuts blocks (a pipe's blocks after the last line feed with an
//! even number of quotes before it; a file's blocks at their first record end), by quote
//! parity and by the first quote whose role its neighbours decide. Pure functions of the
//! bytes (a leaf); malformed input can fool them, and the engine repairs that.

/// How many bytes at a block's start the guess of its quote state looks at.
pub(crate) const GUESS: usize = 4096;

/// Where a block other than the first starts, given its nominal bytes `nom`: one past
/// its first line feed outside quotes, as far as [`guess_inside`] can tell. `None` when
/// there is none. Depends only on `nom` (and on its first [`GUESS`] bytes, not the rest,
/// for a line feed within them), so the block before, reading on past its own nominal
/// end, finds the same place.
pub(crate) fn block_start(nom: &[u8], delim: u8) -> Option<usize> {
    first_record_end(nom, guess_inside(&nom[..nom.len().min(GUESS)], delim)).ok()
}

/// One past the first line feed of `buf` outside quotes, by quote parity from the state
/// `inside` at its start; else whether its end is inside quotes.
pub(crate) fn first_record_end(buf: &[u8], mut inside: bool) -> Result<usize, bool> {
    for i in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf[i] == b'"' {
            inside = !inside;
        } else if !inside {
            return Ok(i + 1);
        }
    }
    Err(inside)
}

/// Whether `head`, the first bytes of a block, starts inside quotes. Decided by the first
/// quote that can only open a field (followed by field text, and not the second of a
/// `""`) or only close one (after field text, so not at a field's start): the quotes
/// before it say the rest. Outside when no quote decides (no quote at all, nearly always).
/// A guess: malformed input can fool it, and the sink repairs that (see the engine (`pipeline::InOrder`)).
pub(crate) fn guess_inside(head: &[u8], delim: u8) -> bool {
    let mut odd = false;
    for i in memchr::memchr_iter(b'"', head) {
        if let (Some(&prev), Some(&next)) = (i.checked_sub(1).map(|p| &head[p]), head.get(i + 1)) {
            let opens = prev != b'"' && ![delim, b'\n', b'\r', b'"'].contains(&next);
            let closes = ![delim, b'\n', b'"'].contains(&prev);
            if opens != closes {
                // Outside before an opening quote, inside before a closing one.
                return closes != odd;
            }
        }
        odd = !odd;
    }
    false
}

/// One past the last line feed of `buf` with an even number of quotes before it.
pub(crate) fn guess_cut(buf: &[u8]) -> Option<usize> {
    let mut odd = crate::scan::odd_count(buf, b'"');
    let mut i = buf.len();
    while let Some(j) = memchr::memrchr2(b'"', b'\n', &buf[..i]) {
        if buf[j] == b'"' {
            odd = !odd;
        } else if !odd {
            return Some(j + 1);
        }
        i = j;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_after_an_even_number_of_quotes() {
        assert_eq!(guess_cut(b"a,b\nc,d\n"), Some(8));
        assert_eq!(guess_cut(b"a,\"x\ny\"\nc"), Some(8));
        assert_eq!(guess_cut(b"a,\"x\ny"), None);
        assert_eq!(guess_cut(b"\"a\"\"\n\"\nb"), Some(7));
        assert_eq!(guess_cut(b"abc"), None);
    }

    #[test]
    fn guesses_the_quote_state_at_a_block_start() {
        // Opening quotes (field text after them), closing ones (field text before).
        assert!(!guess_inside(b"b,\"x y\",c", b','));
        assert!(guess_inside(b"x y\",c\nd", b','));
        assert!(guess_inside(b"x \"\"q\"\" y\"\n", b','));
        assert!(!guess_inside(b"a,\"\"\"q\"\" y\"\n", b','));
        // No quote to decide by: outside.
        assert!(!guess_inside(b"a,b\nc", b','));
        assert!(!guess_inside(b"\"\"", b','));
        assert_eq!(block_start(b"x\ny\",c\nd,e\n", b','), Some(7));
        assert_eq!(block_start(b"x,\"a\nb\"\nc", b','), Some(8));
        assert_eq!(block_start(b"ab\",c", b','), None);
    }
}
