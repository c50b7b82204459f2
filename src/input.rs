//! Opening the inputs a tool reads: stdin when no file is given, `-` for stdin among files.
//! A regular file (stdin redirected from one included) stays a [`File`], so the block
//! pipeline can read it at many offsets at once.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;

/// One input stream with the name used in messages (`stdin` or the path).
pub struct Input {
    pub name: String,
    pub reader: Source,
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
impl crate::positioned::ReadAt for Region {
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
        let n = crate::positioned::ReadAt::read_at(self, buf, self.pos)?;
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

impl crate::positioned::Positioned for Source {
    fn positioned(&mut self) -> Option<(&dyn crate::positioned::ReadAt, u64)> {
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

/// Open every input in order (stdin alone when `files` is empty).
pub fn open_all(files: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    if files.is_empty() {
        return Ok(vec![stdin()]);
    }
    files
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                return Ok(stdin());
            }
            let name = p.display().to_string();
            let f = File::open(p).with_context(|| format!("opening {name}"))?;
            let regular = f.metadata().is_ok_and(|m| m.is_file());
            Ok(Input {
                name,
                reader: if regular {
                    Source::File(f)
                } else {
                    Source::Stream(Box::new(f))
                },
            })
        })
        .collect()
}

fn stdin() -> Input {
    use std::io::IsTerminal as _;
    // Nothing redirected: say what the silence is waiting for.
    if std::io::stdin().is_terminal() {
        let tool = std::env::args_os()
            .next()
            .map(PathBuf::from)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        eprintln!(
            "{tool}: reading CSV from the terminal; end it with Ctrl-D (or give a file, or < file)"
        );
    }
    Input {
        name: "stdin".to_owned(),
        reader: stdin_file()
            .map_or_else(|| Source::Stream(Box::new(std::io::stdin())), Source::File),
    }
}

/// Stdin as a [`File`] (a duplicate of its descriptor, sharing its offset) when it is
/// redirected from a regular file.
#[cfg(unix)]
fn stdin_file() -> Option<File> {
    use std::os::fd::AsFd;
    let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    let f = File::from(fd);
    f.metadata().ok()?.is_file().then_some(f)
}

#[cfg(not(unix))]
fn stdin_file() -> Option<File> {
    None
}
