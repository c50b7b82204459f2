//! Option files (`/etc/my.cnf`, `~/.my.cnf`, `--defaults-file`, ...) read as the mysql and
//! mariadb clients read them (their `my_default.c`): groups, `#` and `;` comments, quotes
//! and backslash escapes, `loose-` prefixes, `!include` and `!includedir`. Which keys mean
//! what is the caller's business ([`crate::conn`], [`crate::tls`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

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

/// The settings of `groups` in one option file (and the files it includes), keys
/// without `loose-` and with `-` for `_`, later lines winning. A missing file gives none:
/// the caller insists on a file named on the command line, as the client does.
pub fn read(path: &Path, groups: &[&str]) -> anyhow::Result<HashMap<String, String>> {
    let mut values = HashMap::new();
    collect_options(path, groups, &mut values, 0)?;
    Ok(values)
}

fn collect_options(
    path: &Path,
    groups: &[&str],
    values: &mut HashMap<String, String>,
    depth: u32,
) -> anyhow::Result<()> {
    let text = match std::fs::read(path) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        // An unreadable system file is skipped, as the client does.
        Err(_) if depth > 0 || path.starts_with("/etc") => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut in_group = false;
    for line in text.lines() {
        let line = line.trim();
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
                    collect_options(&f, groups, values, depth + 1)?;
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("!include") {
            if depth < 8 {
                collect_options(Path::new(rest.trim()), groups, values, depth + 1)?;
            }
            continue;
        }
        if let Some(g) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_group = groups.contains(&g.trim());
            continue;
        }
        if !in_group {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), option_value(v)),
            None => (line, String::new()),
        };
        // `loose-` only tells a program to ignore an option it does not know.
        let key = key.strip_prefix("loose-").unwrap_or(key).replace('_', "-");
        values.insert(key, value);
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
