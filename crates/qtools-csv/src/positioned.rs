//! Inputs that can be read at any offset as well as in order: a regular file (stdin
//! redirected from one included), bytes in memory (tests), a byte range of either. The
//! block engine reads such an input with positioned reads on every core; qimport's `-j`
//! and `--shard` read byte ranges of it. A leaf: it needs nothing else of the crate.

use std::io::Read;

/// An input the pipeline can also read at any offset: a regular file (or, in tests, bytes
/// in memory).
pub trait ReadAt: Sync {
    /// The input's size now.
    fn size(&self) -> std::io::Result<u64>;
    /// Read into `buf` from `offset`, as `pread` does: 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize>;
}

/// What [`crate::pipeline::walk_input`] reads: a stream, and when it is backed by something it can read at
/// any offset, that too.
pub trait Positioned: Read + Send + 'static {
    /// Positioned access to the same bytes, and the offset the stream has reached.
    fn positioned(&mut self) -> Option<(&dyn ReadAt, u64)> {
        None
    }
}

#[cfg(unix)]
impl ReadAt for std::fs::File {
    fn size(&self) -> std::io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

impl Positioned for std::fs::File {
    #[cfg(unix)]
    fn positioned(&mut self) -> Option<(&dyn ReadAt, u64)> {
        use std::io::Seek;
        let pos = self.stream_position().ok()?;
        Some((self, pos))
    }
}

impl ReadAt for Vec<u8> {
    fn size(&self) -> std::io::Result<u64> {
        Ok(self.len() as u64)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let from = usize::try_from(offset).map_or(self.len(), |o| o.min(self.len()));
        let n = buf.len().min(self.len() - from);
        buf[..n].copy_from_slice(&self[from..from + n]);
        Ok(n)
    }
}

impl Positioned for std::io::Cursor<Vec<u8>> {
    fn positioned(&mut self) -> Option<(&dyn ReadAt, u64)> {
        let pos = self.position();
        Some((self.get_ref(), pos))
    }
}

/// A stream read as a stream only (the pipeline's path for pipes), whatever is behind it.
pub struct Stream<R>(pub R);

impl<R: Read> Read for Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Send + 'static> Positioned for Stream<R> {}

/// The bytes `[at, end)` of an input, read as a stream with positioned reads.
pub struct Span<'a> {
    /// The whole input.
    pub src: &'a dyn ReadAt,
    /// The next byte to read (it moves on as the span is read).
    pub at: u64,
    /// One past the last byte of the span.
    pub end: u64,
}

impl Read for Span<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf.len().min(left(self.end, self.at));
        let n = self.src.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

pub(crate) fn left(end: u64, at: u64) -> usize {
    usize::try_from(end.saturating_sub(at)).unwrap_or(usize::MAX)
}
