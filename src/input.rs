//! Opening the inputs a tool reads: stdin when no file is given, `-` for stdin among files.
//! A regular file (stdin redirected from one included) stays a [`File`], so the block
//! pipeline can read it at many offsets at once.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;

use crate::encoding::Encoding;

/// One input stream with the name used in messages (`stdin` or the path).
pub struct Input {
    pub name: String,
    pub reader: Source,
    /// Read from a pipe, a terminal or a device rather than a regular file: its writer
    /// always ends it with a line end, so a last record without one was cut off (see
    /// [`qtools_csv::record::Reader::whole_lines`]).
    pub stream: bool,
}

impl Input {
    /// The bytes left to read, for a regular file or a region of one.
    pub fn size(&self) -> Option<u64> {
        match &self.reader {
            Source::File(f) => {
                let at = std::io::Seek::stream_position(&mut &*f).ok()?;
                f.metadata().ok()?.len().checked_sub(at)
            }
            Source::Region(r) => Some(r.len - r.pos),
            Source::Stream(_) => None,
        }
    }

    /// The size of every input still to be read, when all are regular files (a progress
    /// bar's end).
    pub fn total_size(inputs: &[Input]) -> Option<u64> {
        inputs.iter().map(Input::size).sum()
    }

    /// The same input, from where this one stands, to be read again later (a failure's
    /// message looks for a line in it): a regular file or a region of one, read at
    /// offsets so that neither moves the other. None for anything else (a stream cannot
    /// be read twice).
    pub fn again(&self) -> Option<Input> {
        let region = match &self.reader {
            Source::File(f) => {
                let base = std::io::Seek::stream_position(&mut &*f).ok()?;
                let len = f.metadata().ok()?.len().checked_sub(base)?;
                Region {
                    file: f.try_clone().ok()?,
                    base,
                    len,
                    pos: 0,
                }
            }
            Source::Region(r) => Region {
                file: r.file.try_clone().ok()?,
                base: r.base + r.pos,
                len: r.len.checked_sub(r.pos)?,
                pos: 0,
            },
            Source::Stream(_) => return None,
        };
        Some(Input {
            name: self.name.clone(),
            reader: Source::Region(region),
            stream: self.stream,
        })
    }
}

/// What an input reads from.
pub enum Source {
    /// A regular file.
    File(File),
    /// Anything else: a pipe, a terminal, a decompressor.
    Stream(Box<dyn Read + Send>),
    /// A byte range of a regular file (`--shard`).
    Region(Region),
}

/// The bytes `base..base + len` of a file, read as a file of their own: sequentially or
/// at any offset.
pub struct Region {
    pub file: File,
    pub base: u64,
    pub len: u64,
    pub pos: u64,
}

#[cfg(unix)]
impl qtools_csv::positioned::ReadAt for Region {
    fn size(&self) -> std::io::Result<u64> {
        Ok(self.len)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let left = usize::try_from(self.len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        if n == 0 {
            return Ok(0);
        }
        std::os::unix::fs::FileExt::read_at(&self.file, &mut buf[..n], self.base + offset)
    }
}

#[cfg(unix)]
impl Read for Region {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = qtools_csv::positioned::ReadAt::read_at(self, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::File(f) => f.read(buf),
            Source::Stream(r) => r.read(buf),
            Source::Region(r) => r.read(buf),
        }
    }
}

impl qtools_csv::positioned::Positioned for Source {
    fn positioned(&mut self) -> Option<(&dyn qtools_csv::positioned::ReadAt, u64)> {
        match self {
            Source::File(f) => f.positioned(),
            Source::Stream(_) => None,
            Source::Region(r) => {
                let pos = r.pos;
                Some((r, pos))
            }
        }
    }
}

/// Open every input in order (stdin alone when `files` is empty). Input compressed with
/// gzip or zstd (as `qexport --gzip`/`--zstd` writes it) is decompressed on the way in,
/// whatever its name: it is known by its first bytes.
///
/// Input in another `encoding` than UTF-8 (or starting with a UTF-16 byte-order mark) is
/// converted to UTF-8 (see [`crate::encoding`]).
pub fn open_all(files: &[PathBuf], encoding: Encoding) -> anyhow::Result<Vec<Input>> {
    if files.is_empty() {
        return Ok(vec![decompressed(stdin(), encoding)?]);
    }
    files
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                return decompressed(stdin(), encoding);
            }
            let name = p.display().to_string();
            let f = File::open(p).with_context(|| format!("opening {name}"))?;
            let regular = f.metadata().is_ok_and(|m| m.is_file());
            decompressed(
                Input {
                    name,
                    reader: if regular {
                        Source::File(f)
                    } else {
                        Source::Stream(Box::new(crate::waiting::Stoppable(f)))
                    },
                    stream: !regular,
                },
                encoding,
            )
        })
        .collect()
}

/// What the first bytes of a stream say it is compressed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Packed {
    Gzip,
    Zstd,
}

fn packed(head: &[u8]) -> Option<Packed> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Packed::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Packed::Zstd)
    } else {
        None
    }
}

/// `input`, decompressed when its first bytes say gzip or zstd. A regular file is looked
/// at with a positioned read (it stays a file, for the block engine, when it is plain); a
/// stream's first bytes are read and put back in front of it. A terminal is not looked
/// at (nobody types gzip, and the look would wait for a line).
fn decompressed(input: Input, encoding: Encoding) -> anyhow::Result<Input> {
    use std::io::IsTerminal as _;
    let Input {
        name,
        reader,
        stream: cut_off_means_killed,
    } = input;
    let ctx = || format!("reading {name}");
    // UTF-8 (the default) that starts with a UTF-16 byte-order mark is UTF-16.
    let bom_of = |head: &[u8]| encoding == Encoding::Utf8 && utf16_bom(head);
    // Raw bytes (see [`Encoding::Bytes`]) may start with gzip's or zstd's magic (a
    // compressed BLOB as the first value): there, only a file's name says it is packed.
    let packed_by = |head: &[u8]| {
        if encoding == Encoding::Bytes {
            let ext = std::path::Path::new(&name).extension();
            match ext.and_then(|e| e.to_str()).map(str::to_ascii_lowercase) {
                Some(e) if e == "gz" => Some(Packed::Gzip),
                Some(e) if e == "zst" => Some(Packed::Zstd),
                _ => None,
            }
        } else {
            packed(head)
        }
    };
    let (kind, stream, bom): (Option<Packed>, Box<dyn Read + Send>, bool) = match reader {
        Source::File(f) => {
            let mut head = [0u8; 4];
            let at = std::io::Seek::stream_position(&mut &f).with_context(ctx)?;
            let n = read_at_least(&f, &mut head, at).with_context(ctx)?;
            match packed_by(&head[..n]) {
                None if matches!(encoding, Encoding::Utf8 | Encoding::Bytes)
                    && !bom_of(&head[..n]) =>
                {
                    return Ok(Input {
                        name,
                        reader: Source::File(f),
                        stream: cut_off_means_killed,
                    })
                }
                kind => (kind, Box::new(f), bom_of(&head[..n])),
            }
        }
        Source::Stream(r) if name == "stdin" && std::io::stdin().is_terminal() => {
            return Ok(Input {
                name,
                reader: Source::Stream(r),
                stream: cut_off_means_killed,
            })
        }
        Source::Stream(mut r) => {
            let mut head = Vec::with_capacity(4);
            while head.len() < 4 {
                let mut b = [0u8; 4];
                let n = r.read(&mut b[..4 - head.len()]).with_context(ctx)?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&b[..n]);
            }
            let (kind, bom) = (packed_by(&head), bom_of(&head));
            (kind, Box::new(std::io::Cursor::new(head).chain(r)), bom)
        }
        other @ Source::Region(_) => {
            return Ok(Input {
                name,
                reader: other,
                stream: cut_off_means_killed,
            })
        }
    };
    let reader: Box<dyn Read + Send> = match kind {
        Some(Packed::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(stream)),
        Some(Packed::Zstd) => Box::new(zstd::stream::read::Decoder::new(stream).with_context(ctx)?),
        None => stream,
    };
    let encoding = if bom { Encoding::Utf16 } else { encoding };
    let reader: Box<dyn Read + Send> = match encoding {
        Encoding::Utf8 | Encoding::Bytes => reader,
        e => Box::new(crate::encoding::Decoded::new(reader, e)),
    };
    Ok(Input {
        name,
        reader: Source::Stream(reader),
        stream: cut_off_means_killed,
    })
}

/// A UTF-16 byte-order mark (either order).
fn utf16_bom(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF])
}

/// Read into `buf` from `at` until it is full or the file ends: how many bytes there were.
fn read_at_least(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match std::os::unix::fs::FileExt::read_at(f, &mut buf[n..], at + n as u64)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn stdin() -> Input {
    use std::io::IsTerminal as _;
    // Nothing redirected: say what the silence is waiting for.
    if std::io::stdin().is_terminal() {
        let tool = crate::error::tool_name();
        eprintln!(
            "{tool}: reading CSV from the terminal; end it with Ctrl-D (or give a file, or < file)"
        );
    }
    // Its descriptor, read as a file: a regular file stays one (for the block engine); a
    // pipe is read unbuffered, so that what the wait for it sees ready is all there is
    // (`std::io::stdin()` would hold bytes in a buffer of its own that no wait sees).
    let (stream, reader) = match stdin_fd() {
        Some(f) if f.metadata().is_ok_and(|m| m.is_file()) => (false, Source::File(f)),
        Some(f) => (true, Source::Stream(Box::new(crate::waiting::Stoppable(f)))),
        None => (true, Source::Stream(Box::new(std::io::stdin()))),
    };
    Input {
        name: "stdin".to_owned(),
        stream,
        reader,
    }
}

/// Stdin as a [`File`]: a duplicate of its descriptor, sharing its offset.
fn stdin_fd() -> Option<File> {
    use std::os::fd::AsFd;
    let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    Some(File::from(fd))
}
