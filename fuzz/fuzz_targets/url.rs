//! The `--url` parser (through `ConnConfig::resolve_with`, as the tools reach it) on
//! arbitrary text: never a panic, and the URL's password (when it has one of 4 bytes or
//! more, as written or percent-decoded) never shows in an error's text, nor in the
//! settings' `Debug` and `describe()` text, unless the same bytes are there anyway: in the
//! rest of the URL, or in what the same URL with another password gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtools::cli::ConnArgs;
use qtools::conn::ConnConfig;

/// The password put in place of the URL's own, to tell fixed text and the rest of the
/// URL from the password.
const OTHER: &str = "Zq9Xw7Kp";

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let shown = text_of(s);
    let Some((span, secrets)) = password(s) else {
        return;
    };
    let mut other = s.to_owned();
    other.replace_range(span.clone(), OTHER);
    let mut rest = s.to_owned();
    rest.replace_range(span, "");
    let anyway = [
        text_of(&other),
        String::from_utf8_lossy(&decode(&rest)).into_owned(),
        decode_form(&rest),
        rest,
    ];
    for secret in secrets.iter().filter(|p| p.len() >= 4) {
        if shown.contains(secret.as_str()) && !anyway.iter().any(|a| a.contains(secret.as_str())) {
            panic!("the password {secret:?} of {s:?} shows: {shown}");
        }
    }
});

/// What the tools could print of this URL: the error, or the settings.
fn text_of(url: &str) -> String {
    let args = ConnArgs {
        url: Some(url.to_owned()),
        no_defaults: true,
        ..ConnArgs::default()
    };
    match ConnConfig::resolve_with(&args, "qexport", |_| None, None) {
        Ok(c) => format!("{c:?}\n{}", c.describe()),
        Err(e) => format!("{e:#}\n{e:?}"),
    }
}

/// Where the password is in `s`, and the password as written and percent-decoded (also as
/// the `url` crate has it), when the `url` crate finds one (else the parser's errors are
/// fixed text): after the scheme's `//`, in the authority up to the first `/`, `?` or
/// `#`, between the first `:` and the last `@`. Only for text the crate takes as it is
/// (no tab or line break to drop, nothing to trim), so that both find the same span.
fn password(s: &str) -> Option<(std::ops::Range<usize>, Vec<String>)> {
    let parsed = url::Url::parse(s).ok()?.password()?.to_owned();
    if s.contains(['\t', '\n', '\r']) || s.trim_matches(|c: char| c <= ' ') != s {
        return None;
    }
    let start = s.find("://")? + 3;
    let len = s[start..].find(['/', '?', '#']).unwrap_or(s.len() - start);
    let authority = &s[start..start + len];
    let userinfo = &authority[..authority.rfind('@')?];
    let colon = userinfo.find(':')?;
    let span = start + colon + 1..start + userinfo.len();
    let raw = &s[span.clone()];
    let secrets = [raw, &parsed]
        .iter()
        .flat_map(|p| {
            [
                (*p).to_owned(),
                String::from_utf8_lossy(&decode(p)).into_owned(),
            ]
        })
        .collect();
    Some((span, secrets))
}

/// `%XX` escapes decoded, a broken one left as it is.
fn decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = s
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The query's keys and values as a form decodes them (`+` is a space), as the parser
/// reads its parameters.
fn decode_form(s: &str) -> String {
    let query = s.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}
