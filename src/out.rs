//! The one output writer: buffered stdout, or `-o FILE` written to a temp file in the
//! same directory and renamed over FILE only when everything was written. A crashed cron
//! job therefore never leaves a half file under the real name. Optional gzip or zstd
//! compression; files also get a SHA-256 of the bytes on disk (for backup manifests).
//!
//! `-o` replaces only regular files: a device, FIFO or socket (`/dev/stdout`, a named
//! pipe) is written in place, and a symbolic link is followed, so the file it points to
//! is replaced (in that file's folder) and the link stays. A new file gets the mode the
//! umask gives (as `>` would), a replaced one keeps its mode and, where permitted, its
//! owner. What goes into a stream (stdout, a device or FIFO) cannot be taken back: when a
//! run fails after writing some of it, [`Output::abort`] ends it with a record no CSV
//! reader accepts as complete, so that the next tool in the pipe fails too.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::ValueEnum;
use sha2::{Digest, Sha256};

use crate::error::exit_on_broken_pipe;

const BUF_SIZE: usize = 256 * 1024;

/// The tool writes its data (CSV) to stdout: a failure must mark it (see [`mark_failure`]).
static DATA_ON_STDOUT: AtomicBool = AtomicBool::new(false);
/// The failure mark is on stdout already.
static MARKED: AtomicBool = AtomicBool::new(false);

/// Say that this run's data goes to stdout, before anything can fail: from then on, a
/// failure marks stdout (see [`mark_failure`]), even when it comes before the first byte.
pub fn data_on_stdout() {
    DATA_ON_STDOUT.store(true, Ordering::SeqCst);
}

/// `"TOOL: failed: WHY` with no closing quote and no line end: a field no CSV reader
/// accepts as complete. A pipe cannot tell a clean end from a crash; this can.
pub fn failure_mark(tool: &str, why: &str) -> String {
    format!("\"{tool}: failed: {}", why.replace(['"', '\r', '\n'], "'"))
}

/// A run that writes its data to stdout failed: end stdout with the failure mark, unless
/// it is a terminal (a person reads the error on stderr) or has it already. Whatever
/// the failure, and whether or not a byte was written before it, the next tool in the
/// pipe then fails too (with `-n`, an empty input would otherwise load as no rows).
pub fn mark_failure(tool: &str, why: &str) {
    use std::io::IsTerminal as _;
    if !DATA_ON_STDOUT.load(Ordering::SeqCst)
        || MARKED.swap(true, Ordering::SeqCst)
        || io::stdout().is_terminal()
    {
        return;
    }
    let mut out = io::stdout().lock();
    let _ = out
        .write_all(failure_mark(tool, why).as_bytes())
        .and_then(|()| out.flush());
}

/// Compression of the output (by name in a backup manifest).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The file name suffix: `.gz`, `.zst` or nothing.
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }
}

/// A file writer that hashes what it writes.
struct Hashing {
    file: BufWriter<File>,
    hash: Sha256,
    bytes: u64,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The compression layer over any writer.
enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    fn new(w: W, c: Compression) -> io::Result<Self> {
        Ok(match c {
            Compression::None => Encoder::Plain(w),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::fast(),
            )),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(w, 3)?),
        })
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.write_all(buf),
            Encoder::Gzip(w) => w.write_all(buf),
            Encoder::Zstd(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }

    fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(w) => w.finish(),
            Encoder::Zstd(w) => w.finish(),
        }
    }
}

enum Sink {
    Stdout(Encoder<BufWriter<io::StdoutLock<'static>>>),
    /// A device, FIFO or socket named by `-o`, written in place.
    Direct {
        w: Encoder<BufWriter<File>>,
        path: PathBuf,
    },
    File {
        w: Encoder<Hashing>,
        temp: tempfile::TempPath,
        path: PathBuf,
        _undo: crate::interrupt::Guard,
    },
}

/// Where a tool writes its data.
pub struct Output {
    sink: Sink,
}

/// What [`Output::finish`] wrote to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

impl Output {
    /// `None` or `-`: stdout; otherwise a file, replaced atomically at [`Output::finish`].
    pub fn open(path: Option<&Path>) -> anyhow::Result<Output> {
        Output::open_compressed(path, Compression::None)
    }

    pub fn open_compressed(path: Option<&Path>, c: Compression) -> anyhow::Result<Output> {
        match path {
            Some(p) if p.as_os_str() != "-" => Output::file(p, c),
            _ => Ok(Output::stdout_with(Encoder::new(
                Output::stdout_writer(),
                c,
            )?)),
        }
    }

    /// Buffered stdout, uncompressed.
    pub fn stdout() -> Output {
        Output::stdout_with(Encoder::Plain(Output::stdout_writer()))
    }

    fn stdout_writer() -> BufWriter<io::StdoutLock<'static>> {
        #[cfg(target_os = "linux")]
        widen_pipe();
        BufWriter::with_capacity(BUF_SIZE, io::stdout().lock())
    }

    fn stdout_with(w: Encoder<BufWriter<io::StdoutLock<'static>>>) -> Output {
        data_on_stdout();
        Output {
            sink: Sink::Stdout(w),
        }
    }

    fn file(path: &Path, c: Compression) -> anyhow::Result<Output> {
        use std::os::unix::fs::PermissionsExt as _;
        let existing = match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                anyhow::bail!("{}: is a folder (-o takes a file here)", path.display())
            }
            // Our own stdout (`-o /dev/stdout`, whatever the shell opened it on, `>>`
            // included): written in place, as without -o.
            Ok(m) if is_stdout(&m) => {
                return Ok(Output::stdout_with(Encoder::new(
                    Output::stdout_writer(),
                    c,
                )?))
            }
            Ok(m) if !m.is_file() => return Output::direct(path, c, Resume::Start),
            // A descriptor this process holds (`-o /dev/fd/3` with `3>>log.csv`): written
            // in place too, where the descriptor is (at its end when opened to append).
            Ok(_) if open_descriptor(path).is_some() => {
                let at = open_descriptor(path).unwrap_or(Resume::Start);
                if at == Resume::ReadOnly {
                    anyhow::bail!(
                        "{}: that descriptor is open for reading (the shell's `<`), not an \
                         output: give -o a file, or a descriptor opened with `>` or `>>`",
                        path.display()
                    );
                }
                return Output::direct(path, c, at);
            }
            // A file this process has open to read, however it is named (`-o in.csv <
            // in.csv`, `/proc/PPID/fd/0`, a link): an input, not an output.
            Ok(m) if open_for_reading(&m) => anyhow::bail!(
                "{}: this file is open as an input here (the shell's `<`): write the output \
                 to another file",
                path.display()
            ),
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
        };
        let path = &link_target(path);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .with_context(|| format!("{}: not a file name", path.display()))?;
        // Ctrl-C or SIGTERM removes the temporary file.
        let (temp, undo) = crate::interrupt::made(
            || {
                tempfile::Builder::new()
                    .prefix(&format!(".{}.", name.to_string_lossy()))
                    .suffix(".tmp")
                    // What the umask leaves of rw-rw-rw-, as for any new file.
                    .permissions(std::fs::Permissions::from_mode(0o666))
                    .tempfile_in(dir)
            },
            |t| {
                let doomed = t.path().to_owned();
                move || drop(std::fs::remove_file(doomed))
            },
        )
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        let (file, temp) = temp.into_parts();
        if let Some(m) = existing {
            use std::os::unix::fs::MetadataExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(m.mode() & 0o777))
                .with_context(|| format!("setting the mode of {}", temp.display()))?;
            // Keeping the owner needs the privilege to give files away: best effort.
            let _ = std::os::unix::fs::fchown(&file, Some(m.uid()), Some(m.gid()));
        }
        let hashing = Hashing {
            file: BufWriter::with_capacity(BUF_SIZE, file),
            hash: Sha256::new(),
            bytes: 0,
        };
        Ok(Output {
            sink: Sink::File {
                w: Encoder::new(hashing, c)?,
                temp,
                path: path.to_owned(),
                _undo: undo,
            },
        })
    }

    /// A device, FIFO or socket (or an open descriptor, from where it is), written in
    /// place.
    fn direct(path: &Path, c: Compression, at: Resume) -> anyhow::Result<Output> {
        use std::io::Seek as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .append(at == Resume::Append)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        if let Resume::At(pos) = at {
            file.seek(io::SeekFrom::Start(pos))
                .with_context(|| format!("opening {}", path.display()))?;
        }
        Ok(Output {
            sink: Sink::Direct {
                w: Encoder::new(BufWriter::with_capacity(BUF_SIZE, file), c)?,
                path: path.to_owned(),
            },
        })
    }

    /// Write bytes; a closed stdout pipe ends the process quietly right here.
    pub fn write_all(&mut self, buf: &[u8]) -> anyhow::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => exit_on_broken_pipe(w.write_all(buf)).context("writing to stdout"),
            Sink::Direct { w, path } => exit_on_broken_pipe(w.write_all(buf))
                .with_context(|| format!("writing {}", path.display())),
            Sink::File { w, path, .. } => w
                .write_all(buf)
                .with_context(|| format!("writing {}", path.display())),
        }
    }

    /// Write out what is buffered (a compressed stream is flushed, not finished): a full
    /// disk shows here, before the work this output goes with is published.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => exit_on_broken_pipe(w.flush()).context("writing to stdout"),
            Sink::Direct { w, path } => exit_on_broken_pipe(w.flush())
                .with_context(|| format!("writing {}", path.display())),
            Sink::File { w, path, .. } => w
                .flush()
                .with_context(|| format!("writing {}", path.display())),
        }
    }

    /// The run failed: a file is dropped (its temporary file removed); a stream (stdout
    /// or a FIFO, but not a terminal) gets the failure mark (see [`failure_mark`]) after
    /// the whole records written before it, so that a strict reader down the pipe
    /// (qimport, qgrep, qcount) refuses the input instead of taking a truncated table for
    /// a whole one.
    pub fn abort(self, tool: &str, why: &str) {
        use std::io::IsTerminal as _;
        let mark = failure_mark(tool, why);
        match self.sink {
            Sink::Stdout(mut w) if !io::stdout().is_terminal() => {
                let _ = w.write_all(mark.as_bytes()).and_then(|()| w.flush());
                MARKED.store(true, Ordering::SeqCst);
            }
            Sink::Direct { mut w, .. } => {
                let _ = w.write_all(mark.as_bytes()).and_then(|()| w.flush());
            }
            _ => {}
        }
    }

    /// Flush everything and, for a file, move it into place. Returns the file's size and
    /// checksum (`None` for stdout).
    pub fn finish(self) -> anyhow::Result<Option<Written>> {
        match self.sink {
            Sink::Stdout(w) => {
                let mut inner = exit_on_broken_pipe(w.finish()).context("writing to stdout")?;
                exit_on_broken_pipe(inner.flush()).context("writing to stdout")?;
                Ok(None)
            }
            Sink::Direct { w, path } => {
                let ctx = || format!("writing {}", path.display());
                let mut inner = exit_on_broken_pipe(w.finish()).with_context(ctx)?;
                exit_on_broken_pipe(inner.flush()).with_context(ctx)?;
                Ok(None)
            }
            Sink::File { w, temp, path, .. } => {
                let ctx = || format!("writing {}", path.display());
                let mut h = w.finish().with_context(ctx)?;
                h.flush().with_context(ctx)?;
                let written = Written {
                    bytes: h.bytes,
                    sha256: hex_lower(&h.hash.finalize()),
                };
                let file = h
                    .file
                    .into_inner()
                    .map_err(io::IntoInnerError::into_error)
                    .with_context(ctx)?;
                file.sync_all().with_context(ctx)?;
                temp.persist(&path).with_context(|| {
                    format!("renaming the temporary file to {}", path.display())
                })?;
                Ok(Some(written))
            }
        }
    }
}

/// Is this the file our stdout is open on?
fn is_stdout(m: &std::fs::Metadata) -> bool {
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::MetadataExt as _;
    io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| File::from(fd).metadata().ok())
        .is_some_and(|o| (o.dev(), o.ino()) == (m.dev(), m.ino()))
}

/// Where writing a file opened again goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// At its start (a device, a FIFO).
    Start,
    /// At its end, whatever others write (the shell's `>>`).
    Append,
    /// At this offset (where the shell's descriptor is).
    At(u64),
    /// Nowhere: the descriptor is open only to read (`-o /dev/stdin` with `<input.csv`);
    /// opened again to write, it would overwrite the input.
    ReadOnly,
}

/// When `path` (through its links, however spelled: `/dev/fd/N`, `/dev//fd/N`,
/// `/proc/self/fd/N`, `/proc/PID/task/TID/fd/N`) names one of this process's open
/// descriptors: where writing it must go on, as `/proc/self/fdinfo/N` says. Its folder is
/// judged by where it leads (`/dev/fd` leads to `/proc/PID/fd`), not by its spelling.
fn open_descriptor(path: &Path) -> Option<Resume> {
    const O_APPEND: u32 = 0o2000;
    const O_ACCMODE: u32 = 0o3;
    const O_RDONLY: u32 = 0;
    let own = PathBuf::from(format!("/proc/{}", std::process::id()));
    let ours = |dir: &Path| {
        dir == own.join("fd")
            || (dir.file_name().is_some_and(|f| f == "fd")
                && dir.parent().and_then(Path::parent) == Some(own.join("task").as_path()))
    };
    let mut p = path.to_owned();
    for _ in 0..40 {
        let parent = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .and_then(|d| std::fs::canonicalize(d).ok());
        if parent.as_deref().is_some_and(ours) {
            let n: u32 = p.file_name()?.to_str()?.parse().ok()?;
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{n}")).ok()?;
            let field = |k: &str| {
                info.lines()
                    .find_map(|l| l.strip_prefix(k))
                    .map(|v| v.trim().to_owned())
            };
            let flags = u32::from_str_radix(&field("flags:")?, 8).ok()?;
            return Some(if flags & O_ACCMODE == O_RDONLY {
                Resume::ReadOnly
            } else if flags & O_APPEND != 0 {
                Resume::Append
            } else {
                Resume::At(field("pos:")?.parse().ok()?)
            });
        }
        match std::fs::read_link(&p) {
            Ok(t) if t.is_absolute() => p = t,
            Ok(t) => p = p.parent().unwrap_or(Path::new("")).join(t),
            Err(_) => return None,
        }
    }
    None
}

/// Whether the file `m` describes is open in this process only to read (on any
/// descriptor: the same device and inode).
fn open_for_reading(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return false;
    };
    fds.flatten().any(|fd| {
        let same =
            std::fs::metadata(fd.path()).is_ok_and(|f| f.dev() == m.dev() && f.ino() == m.ino());
        same && open_descriptor(&fd.path()) == Some(Resume::ReadOnly)
    })
}

/// Where `path` leads through symbolic links (a dangling one included): the file to
/// replace, so that the link itself stays.
fn link_target(path: &Path) -> PathBuf {
    let mut p = path.to_owned();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(t) if t.is_absolute() => p = t,
            Ok(t) => p = p.parent().unwrap_or(Path::new("")).join(t),
            Err(_) => break,
        }
    }
    p
}

fn hex_lower(b: &[u8]) -> String {
    let mut s = Vec::with_capacity(b.len() * 2);
    qtools_csv::bytes::hex_encode(b, &mut s);
    String::from_utf8(s).unwrap_or_default()
}

/// A pipe on stdout gets a 1 MiB buffer: with Linux's default of 64 KiB, handing over
/// each block of output takes several context switches (measured, qgrep -j 2 with 46 MB
/// of output into a pipe: 99 ms, 88 ms with the wider pipe). Only ever grown; a failure
/// (not a pipe, the user's pipe memory limit reached) changes nothing.
#[cfg(target_os = "linux")]
fn widen_pipe() {
    const PIPE: usize = 1 << 20;
    let out = io::stdout();
    if rustix::pipe::fcntl_getpipe_size(&out).is_ok_and(|size| size < PIPE) {
        let _ = rustix::pipe::fcntl_setpipe_size(&out, PIPE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn file_appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut out = Output::open(Some(&path)).unwrap();
        out.write_all(b"a,b\n").unwrap();
        assert!(!path.exists());
        let w = out.finish().unwrap().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(w.bytes, 4);
        // printf 'a,b\n' | sha256sum
        assert_eq!(
            w.sha256,
            "5be08c9684a1d25efcee09318204824278b08bbfb4aef973ffefd0b9d7478313"
        );
    }

    #[test]
    fn dropped_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut out = Output::open(Some(&path)).unwrap();
        out.write_all(b"partial").unwrap();
        drop(out);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn gzip_and_zstd_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"id,name\n1,x\n".repeat(1000);
        for c in [Compression::Gzip, Compression::Zstd] {
            let path = dir.path().join(format!("out.csv{}", c.suffix()));
            let mut out = Output::open_compressed(Some(&path), c).unwrap();
            out.write_all(&data).unwrap();
            out.finish().unwrap();
            let raw = std::fs::read(&path).unwrap();
            assert!(raw.len() < data.len() / 10);
            let mut back = Vec::new();
            match c {
                Compression::Gzip => {
                    flate2::read::GzDecoder::new(&raw[..])
                        .read_to_end(&mut back)
                        .unwrap();
                }
                _ => back = zstd::decode_all(&raw[..]).unwrap(),
            }
            assert_eq!(back, data);
        }
    }
}
