//! Opening the inputs a tool reads: stdin when no file is given, `-` for stdin among files.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;

/// One input stream with the name used in messages (`stdin` or the path).
pub struct Input {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
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
            Ok(Input {
                name,
                reader: Box::new(f),
            })
        })
        .collect()
}

fn stdin() -> Input {
    Input {
        name: "stdin".to_owned(),
        reader: Box::new(std::io::stdin()),
    }
}
