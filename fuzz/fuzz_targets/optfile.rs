//! The option-file reader (`~/.my.cnf`, `--defaults-file`) on arbitrary bytes: never a
//! panic and never a hang, whatever the file holds (binary bytes, NULs, no final line
//! break, `!include` and `!includedir` lines, loops of them). The input is up to three
//! files, `a.cnf` (the one read), `b.cnf` and `c.cnf`, split at each line `%%`, written to
//! a folder of this process where `$DIR` names it: `!include $DIR/b.cnf`,
//! `!includedir $DIR`. An input that includes anything outside that folder is passed
//! over (the fuzzer is not to read `/dev/zero` or the machine's files).
#![no_main]

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qtools::optfile;

const FILES: [&str; 3] = ["a.cnf", "b.cnf", "c.cnf"];

fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("qtools-fuzz-optfile-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("creating the fuzz folder");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    let data = replace(data, b"$DIR", dir.as_os_str().as_encoded_bytes());
    let mut files: Vec<&[u8]> = Vec::new();
    let mut rest = &data[..];
    while files.len() < FILES.len() - 1 {
        let Some(at) = find(rest, b"\n%%\n") else {
            break;
        };
        files.push(&rest[..=at]);
        rest = &rest[at + 4..];
    }
    files.push(rest);
    if !files.iter().all(|f| includes_stay_in(f, dir)) {
        return;
    }
    for (i, name) in FILES.iter().enumerate() {
        let content = files.get(i).copied().unwrap_or_default();
        std::fs::write(dir.join(name), content).expect("writing an option file");
    }
    if let Ok(options) = optfile::read(&dir.join(FILES[0]), &["client", "qexport"]) {
        let _ = options.get("password");
        let _ = options.as_arguments();
    }
});

/// Whether every `!include` and `!includedir` of `file`, its lines cut as the reader cuts
/// them, names `dir` or a path in it (or nothing).
fn includes_stay_in(file: &[u8], dir: &Path) -> bool {
    String::from_utf8_lossy(file).lines().all(|line| {
        let line = line.split('\0').next().unwrap_or_default().trim();
        let Some(rest) = line.strip_prefix("!include") else {
            return true;
        };
        let path = Path::new(rest.strip_prefix("dir").unwrap_or(rest).trim());
        path.as_os_str().is_empty()
            || (path.starts_with(dir) && !path.components().any(|c| c == Component::ParentDir))
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(at) = find(rest, from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}
