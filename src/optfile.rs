//! Option files (`/etc/my.cnf`, `~/.my.cnf`, `--defaults-file`, ...) read as the mysql and
//! mariadb clients read them (their `my_default.c`): groups, `#` and `;` comments, quotes
//! and backslash escapes, `loose-` prefixes, `!include` and `!includedir`. Which keys mean
//! what is the caller's business ([`crate::conn`], [`crate::tls`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// The option files to read, in order, each with whether it was named on the command
/// line: only `defaults_file` when given, else the system's, `~/.my.cnf` and
/// `extra_file`.
pub fn files(
    defaults_file: Option<&str>,
    extra_file: Option<&str>,
    home: Option<&Path>,
) -> Vec<(PathBuf, bool)> {
    if let Some(f) = defaults_file {
        return vec![(PathBuf::from(f), true)];
    }
    let mut files = vec![
        (PathBuf::from("/etc/my.cnf"), false),
        (PathBuf::from("/etc/mysql/my.cnf"), false),
    ];
    if let Some(h) = home {
        files.push((h.join(".my.cnf"), false));
    }
    if let Some(f) = extra_file {
        files.push((PathBuf::from(f), true));
    }
    files
}

/// The options of `groups` in one option file (and the files it includes), in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    /// Each option as written (`loose-socket`, `ssl_ca`), with its value (`None`: given
    /// without one, as `ssl`).
    pub entries: Vec<(String, Option<String>)>,
}

impl Options {
    /// The value of `key` (any spelling: `ssl_ca`, `ssl-ca`, `loose-ssl-ca`), the last
    /// one given winning; an option given without a value is `""`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| normal(k) == normal(key))
            .map(|(_, v)| v.clone().unwrap_or_default())
    }

    /// `--key=value` each, as `mariadb --print-defaults` shows them, with a password's
    /// value hidden.
    pub fn as_arguments(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(k, v)| match v {
                Some(_) if normal(k) == "password" => format!("--{k}=*****"),
                Some(v) => format!("--{k}={v}"),
                None => format!("--{k}"),
            })
            .collect()
    }
}

/// A key as it is looked up: without `loose-` (which only tells a program to ignore an
/// option it does not know) and with `-` for `_`.
fn normal(key: &str) -> String {
    key.strip_prefix("loose-").unwrap_or(key).replace('_', "-")
}

/// The options of `groups` in one option file (and the files it includes), in order. A
/// missing file gives none: the caller insists on a file named on the command line, as
/// the client does.
pub fn read(path: &Path, groups: &[&str]) -> anyhow::Result<Options> {
    let mut options = Options::default();
    collect_options(path, groups, &mut options, 0)?;
    Ok(options)
}

fn collect_options(
    path: &Path,
    groups: &[&str],
    options: &mut Options,
    depth: u32,
) -> anyhow::Result<()> {
    let text = match std::fs::read(path) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        // An unreadable system file is skipped, as the client does.
        Err(_) if depth > 0 || path.starts_with("/etc") => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    // None before the first group header.
    let mut in_group: Option<bool> = None;
    for (n, line) in text.lines().enumerate() {
        // The client reads lines as C strings: a NUL byte ends one.
        let line = line.split('\0').next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("!includedir") {
            if depth < 8 {
                let dir = Path::new(rest.trim());
                let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
                    .unwrap_or_default();
                files.retain(|f| f.extension().is_some_and(|e| e == "cnf"));
                files.sort();
                for f in files {
                    collect_options(&f, groups, options, depth + 1)?;
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("!include") {
            if depth < 8 {
                collect_options(Path::new(rest.trim()), groups, options, depth + 1)?;
            }
            continue;
        }
        // The group's name exactly as written: the client takes `[ client ]` for another
        // group than `[client]`.
        if let Some(g) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_group = Some(groups.contains(&g));
            continue;
        }
        match in_group {
            None => bail!(
                "option file {}, line {}: an option before any [group] header, which the mysql \
                 client refuses too (a byte-order mark at the start of the file? save it without one)",
                path.display(),
                n + 1
            ),
            Some(false) => continue,
            Some(true) => {}
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(option_value(v))),
            None => (line, None),
        };
        options.entries.push((key.to_owned(), value));
    }
    Ok(())
}

/// An option's value as the mysql and mariadb clients read it (their `my_default.c`): a
/// comment starts at the first `#` outside quotes; white space around what is left goes;
/// one pair of quotes goes when the value starts and ends with the same one (so `'o''k'`
/// is `o''k`, as the client has it); then `\b \t \n \r \s` are a backspace, tab, line
/// feed, carriage return and space, and a backslash takes any other character as it is.
pub fn option_value(raw: &str) -> String {
    let mut quote: Option<char> = None;
    let mut end = raw.len();
    let mut escaped = false;
    for (i, c) in raw.char_indices() {
        match c {
            _ if escaped => escaped = false,
            // A backslash protects the next character inside quotes only.
            '\\' if quote.is_some() => escaped = true,
            '"' | '\'' if quote == Some(c) => quote = None,
            '"' | '\'' if quote.is_none() => quote = Some(c),
            '#' if quote.is_none() => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let mut v = raw[..end].trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            v = &v[1..v.len() - 1];
            break;
        }
    }
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('b') => '\u{8}',
            Some('t') => '\t',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('s') => ' ',
            Some(other) => other,
            // A backslash at the very end stays.
            None => '\\',
        });
    }
    out
}

/// An option given without a value, or as 1, true or on (any case): set; anything else
/// (0, off, false) is unset.
pub fn truthy(v: &str) -> bool {
    v.is_empty() || v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("on")
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #16: option files read as the mariadb client reads them (each case checked
    // against `mariadb --print-defaults` on the same file; tests/house.rs does so live).
    #[test]
    fn option_values_follow_the_client() {
        for (raw, want) in [
            (r#""a\"b""#, "a\"b"),
            (r#" "simple" # comment"#, "simple"),
            ("a#b", "a"),
            ("x;y", "x;y"),
            ("3307  # trailing", "3307"),
            (r"with\sspace\\back", "with space\\back"),
            (r#"'single "q"'"#, "single \"q\""),
            ("  plain  ", "plain"),
            (r"'a\'b'", "a'b"),
            ("'o''k'", "o''k"),
            (r"x\#y", "x\\"),
            (r#""ab"cd"#, r#""ab"cd"#),
            ("", ""),
        ] {
            assert_eq!(option_value(raw), want, "{raw}");
        }
    }
}
