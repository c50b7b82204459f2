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

/// The long options of the mariadb client (`mariadb --help`), and MySQL's `ssl-mode`: an
/// option file may name any of them by a prefix that only it starts with (`pass` is
/// `password`, `ssl-verify-server` is `ssl-verify-server-cert`), in any case, with `_` or
/// `-`, as the client's option parser (`my_getopt`) takes them.
const CLIENT_OPTIONS: &[&str] = &[
    "abort-source-on-error",
    "auto-rehash",
    "auto-vertical-output",
    "batch",
    "binary-as-hex",
    "binary-mode",
    "character-sets-dir",
    "column-names",
    "column-type-info",
    "comments",
    "compress",
    "connect-expired-password",
    "connect-timeout",
    "database",
    "debug",
    "debug-check",
    "debug-info",
    "default-auth",
    "default-character-set",
    "delimiter",
    "enable-cleartext-plugin",
    "execute",
    "force",
    "help",
    "host",
    "html",
    "i-am-a-dummy",
    "ignore-spaces",
    "init-command",
    "line-numbers",
    "local-infile",
    "max-allowed-packet",
    "max-join-size",
    "named-commands",
    "net-buffer-length",
    "no-auto-rehash",
    "no-beep",
    "one-database",
    "pager",
    "password",
    "plugin-dir",
    "port",
    "print-query-on-error",
    "progress-reports",
    "prompt",
    "protocol",
    "quick",
    "quick-max-column-width",
    "raw",
    "reconnect",
    "safe-updates",
    "sandbox",
    "secure-auth",
    "select-limit",
    "server-arg",
    "show-warnings",
    "sigint-ignore",
    "silent",
    "skip-column-names",
    "skip-line-numbers",
    "socket",
    "ssl",
    "ssl-ca",
    "ssl-capath",
    "ssl-cert",
    "ssl-cipher",
    "ssl-crl",
    "ssl-crlpath",
    "ssl-key",
    "ssl-mode",
    "ssl-verify-server-cert",
    "table",
    "tee",
    "tls-version",
    "unbuffered",
    "user",
    "verbose",
    "version",
    "vertical",
    "wait",
    "xml",
];

/// The options of `groups` in one option file (and the files it includes), in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    /// Each option as written (`loose-socket`, `ssl_ca`, `pass`), with its value (`None`:
    /// given without one, as `ssl`).
    pub entries: Vec<(String, Option<String>)>,
}

/// An option's name as the client resolves it, and the value a `skip-`, `disable-` or
/// `enable-` prefix gives it: `None` for a name that is no client option, or a prefix
/// that more than one starts with (the client refuses those as ambiguous).
pub fn resolve(key: &str) -> Option<(&'static str, Option<&'static str>)> {
    let k = key.to_ascii_lowercase().replace('_', "-");
    let k = k.strip_prefix("loose-").unwrap_or(&k);
    let (k, forced) = if let Some(rest) = k
        .strip_prefix("skip-")
        .or_else(|| k.strip_prefix("disable-"))
    {
        (rest, Some("0"))
    } else if let Some(rest) = k.strip_prefix("enable-") {
        (rest, Some("1"))
    } else {
        (k, None)
    };
    if let Some(exact) = CLIENT_OPTIONS.iter().find(|o| **o == k) {
        return Some((exact, forced));
    }
    let mut prefixed = CLIENT_OPTIONS.iter().filter(|o| o.starts_with(k));
    match (prefixed.next(), prefixed.next()) {
        (Some(one), None) if !k.is_empty() => Some((one, forced)),
        _ => None,
    }
}

impl Options {
    /// The value of the option `name` (a full client option name: `ssl-ca`), however it
    /// was spelled, the last one given winning; given without a value it is `""` (a
    /// `skip-` or `disable-` prefix makes it `"0"`).
    pub fn get(&self, name: &str) -> Option<String> {
        self.entries
            .iter()
            .rev()
            .find_map(|(k, v)| match resolve(k) {
                Some((o, forced)) if o == name => {
                    Some(forced.map_or_else(|| v.clone().unwrap_or_default(), str::to_owned))
                }
                _ => None,
            })
    }

    /// `--key=value` each, as `mariadb --print-defaults` shows them, with a password's
    /// value hidden however its key is spelled.
    pub fn as_arguments(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(k, v)| match v {
                Some(_) if resolve(k).is_some_and(|(o, _)| o == "password") => {
                    format!("--{k}=*****")
                }
                Some(v) => format!("--{k}={v}"),
                None => format!("--{k}"),
            })
            .collect()
    }
}

/// The options of `groups` in one option file (and the files it includes), in order. A
/// missing file gives none: the caller insists on a file named on the command line, as
/// the client does.
pub fn read(path: &Path, groups: &[&str]) -> anyhow::Result<Options> {
    let mut options = Options::default();
    collect_options(path, groups, &mut options, &mut Vec::new())?;
    Ok(options)
}

/// The name of the group a line opens (`[client]`, `[CLIENT]`, `[client ]`, with a
/// comment after it), as the client reads it: case does not count, nor white space after
/// the name; white space before it does (`[ client ]` is another group).
fn group_header(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(inner[..end].trim_end().to_ascii_lowercase())
}

/// The options of `path` into `options`; `reading` holds the files whose `!include`
/// lines led here.
///
/// A file among them is not read again: an `!include` loop ends there. The client has no
/// such check, only its depth limit; but a file that includes itself twice is read
/// 2^depth times that way, ten times 10^depth (a hang), for nothing: a loop only reads
/// again what is being read.
fn collect_options(
    path: &Path,
    groups: &[&str],
    options: &mut Options,
    reading: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let depth = reading.len();
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    if reading.contains(&canonical) {
        return Ok(());
    }
    let text = match std::fs::read(path) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        // An unreadable system file is skipped, as the client does.
        Err(_) if depth > 0 || path.starts_with("/etc") => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    reading.push(canonical);
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
                // A folder that cannot be read ends the client ("Fatal error in defaults
                // handling"): so it does here.
                let rd = std::fs::read_dir(dir).with_context(|| {
                    format!(
                        "option file {}, line {}: !includedir {}",
                        path.display(),
                        n + 1,
                        dir.display()
                    )
                })?;
                let mut files: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
                files.retain(|f| f.extension().is_some_and(|e| e == "cnf"));
                files.sort();
                for f in files {
                    collect_options(&f, groups, options, reading)?;
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("!include") {
            if depth < 8 {
                collect_options(Path::new(rest.trim()), groups, options, reading)?;
            }
            continue;
        }
        if let Some(g) = group_header(line) {
            in_group = Some(groups.iter().any(|want| *want == g));
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
    reading.pop();
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
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('s') => out.push(' '),
            Some(q @ ('"' | '\'' | '\\')) => out.push(q),
            // Any other escape keeps its backslash, as the client has it (`ab\cd`).
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            // A backslash at the very end stays.
            None => out.push('\\'),
        }
    }
    out
}

/// A boolean option's value, as the client's option parser reads it: none (the option
/// alone), `1`, `on` or `true` set it; `0`, `off` or `false` unset it (any case); anything
/// else is an error naming it, never a silent "off" (which, for a TLS setting, would be a
/// connection without the check that was asked for).
pub fn boolean(key: &str, v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "" | "1" | "on" | "true" => Ok(true),
        "0" | "off" | "false" => Ok(false),
        _ => bail!("{key}={v}: not a boolean (1, 0, on, off, true or false)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #16: option files read as the mariadb client reads them (each case checked
    // against `mariadb --print-defaults` on the same file; tests/conn.rs does so live).
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
            (r"ab\cd", r"ab\cd"),
            (r#""ab"cd"#, r#""ab"cd"#),
            ("", ""),
        ] {
            assert_eq!(option_value(raw), want, "{raw}");
        }
    }

    // See: #23 (4): option names as the client's option parser takes them.
    #[test]
    fn option_names_resolve_as_the_client_resolves_them() {
        for (key, want) in [
            ("password", Some(("password", None))),
            ("Password", Some(("password", None))),
            ("pass", Some(("password", None))),
            ("loose_password", Some(("password", None))),
            ("ssl-verify-server", Some(("ssl-verify-server-cert", None))),
            (
                "SSL_VERIFY_SERVER_CERT",
                Some(("ssl-verify-server-cert", None)),
            ),
            ("skip-ssl", Some(("ssl", Some("0")))),
            ("disable-ssl", Some(("ssl", Some("0")))),
            ("ssl", Some(("ssl", None))),
            ("ssl-c", None),
            ("h", None),
            ("host", Some(("host", None))),
            ("unknown-key", None),
        ] {
            assert_eq!(resolve(key), want, "{key}");
        }
        assert_eq!(group_header("[CLIENT]").as_deref(), Some("client"));
        assert_eq!(group_header("[client ] # c").as_deref(), Some("client"));
        assert_eq!(group_header("[ client ]").as_deref(), Some(" client"));
        assert!(boolean("ssl", "yes").is_err());
        assert!(boolean("ssl", "ON").unwrap() && !boolean("ssl", "off").unwrap());
    }

    // See: #30: a file that includes itself ten times (10^8 readings within the depth
    // limit) or its includer, directly or by its folder, is read once on each path.
    #[test]
    fn include_loops_end() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.cnf"), dir.path().join("b.cnf"));
        let text = format!(
            "[client]\nuser=a\n{}!include {}/./b.cnf\nhost=h\n",
            format!("!include {}\n", a.display()).repeat(10),
            dir.path().display()
        );
        std::fs::write(&a, text).unwrap();
        let b_text = format!(
            "[client]\n!include {}\n!includedir {}\nport=1\n",
            a.display(),
            dir.path().display()
        );
        std::fs::write(&b, b_text).unwrap();
        let args = |f: &Path| read(f, &["client"]).unwrap().as_arguments();
        assert_eq!(args(&a), ["--user=a", "--port=1", "--host=h"]);
        // Not a loop: b.cnf includes a.cnf twice, by its name and by its folder.
        assert_eq!(
            args(&b),
            ["--user=a", "--host=h", "--user=a", "--host=h", "--port=1"]
        );
    }
}
