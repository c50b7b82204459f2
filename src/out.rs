//! The one output writer: buffered stdout, or `-o FILE` written to a temp file in the
//! same directory and renamed over FILE only when everything was written. A crashed cron
//! job therefore never leaves a half file under the real name.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::exit_on_broken_pipe;

const BUF_SIZE: usize = 256 * 1024;

enum Sink {
    Stdout(BufWriter<io::StdoutLock<'static>>),
    File {
        w: BufWriter<File>,
        temp: tempfile::TempPath,
        path: PathBuf,
    },
}

/// Where a tool writes its data.
pub struct Output {
    sink: Sink,
}

impl Output {
    /// `None` or `-`: stdout; otherwise a file, replaced atomically at [`Output::finish`].
    pub fn open(path: Option<&Path>) -> anyhow::Result<Output> {
        match path {
            None => Ok(Output::stdout()),
            Some(p) if p.as_os_str() == "-" => Ok(Output::stdout()),
            Some(p) => Output::file(p),
        }
    }

    pub fn stdout() -> Output {
        Output {
            sink: Sink::Stdout(BufWriter::with_capacity(BUF_SIZE, io::stdout().lock())),
        }
    }

    fn file(path: &Path) -> anyhow::Result<Output> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .with_context(|| format!("{}: not a file name", path.display()))?;
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.to_string_lossy()))
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        let (file, temp) = temp.into_parts();
        Ok(Output {
            sink: Sink::File {
                w: BufWriter::with_capacity(BUF_SIZE, file),
                temp,
                path: path.to_owned(),
            },
        })
    }

    /// Write bytes; a closed stdout pipe ends the process quietly right here.
    pub fn write_all(&mut self, buf: &[u8]) -> anyhow::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => exit_on_broken_pipe(w.write_all(buf)).context("writing to stdout"),
            Sink::File { w, temp, .. } => w
                .write_all(buf)
                .with_context(|| format!("writing {}", temp.display())),
        }
    }

    /// Flush everything and, for a file, move it into place.
    pub fn finish(self) -> anyhow::Result<()> {
        match self.sink {
            Sink::Stdout(mut w) => exit_on_broken_pipe(w.flush()).context("writing to stdout"),
            Sink::File { w, temp, path } => {
                let file = w
                    .into_inner()
                    .map_err(io::IntoInnerError::into_error)
                    .with_context(|| format!("writing {}", temp.display()))?;
                file.sync_all()
                    .with_context(|| format!("writing {}", temp.display()))?;
                temp.persist(&path).with_context(|| {
                    format!("renaming the temporary file to {}", path.display())
                })?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut out = Output::open(Some(&path)).unwrap();
        out.write_all(b"a,b\n").unwrap();
        assert!(!path.exists());
        out.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
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
}
