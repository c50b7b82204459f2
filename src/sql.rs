//! SQL text helpers: identifier quoting, `db.table` names, and the top-level structure of
//! SQL text the user gives (`-e`, `--where`, `--order-by`, `--schema`, a backup's
//! `schema.sql`): where its statements end, outside strings, quoted names and comments.

use anyhow::bail;

/// Quote an identifier with backticks, doubling any backtick inside.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Quote a string literal (`'it''s'`), for the few places the server takes no parameter
/// (a table COMMENT): backslashes doubled (the sessions run without NO_BACKSLASH_ESCAPES),
/// quotes doubled, NUL escaped.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A table named on the command line: `table`, `db.table`, or either part backquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub database: Option<String>,
    pub table: String,
}

impl TableName {
    pub fn parse(s: &str) -> anyhow::Result<TableName> {
        let parts = split_ident_path(s)?;
        match parts.as_slice() {
            [t] => Ok(TableName {
                database: None,
                table: t.clone(),
            }),
            [d, t] => Ok(TableName {
                database: Some(d.clone()),
                table: t.clone(),
            }),
            _ => bail!("{s:?} is not a table name (expected TABLE or DATABASE.TABLE)"),
        }
    }

    /// `` `db`.`table` `` or `` `table` ``.
    pub fn quoted(&self) -> String {
        match &self.database {
            Some(d) => format!("{}.{}", quote_ident(d), quote_ident(&self.table)),
            None => quote_ident(&self.table),
        }
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.database {
            Some(d) => write!(f, "{d}.{}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

fn split_ident_path(s: &str) -> anyhow::Result<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted_part = false;
    while let Some(c) = chars.next() {
        match c {
            '`' if cur.is_empty() && !quoted_part => {
                quoted_part = true;
                loop {
                    match chars.next() {
                        Some('`') if chars.peek() == Some(&'`') => {
                            chars.next();
                            cur.push('`');
                        }
                        Some('`') => break,
                        Some(c) => cur.push(c),
                        None => bail!("{s:?}: unterminated backquote"),
                    }
                }
            }
            '.' => {
                parts.push(std::mem::take(&mut cur));
                quoted_part = false;
            }
            c if quoted_part => bail!("{s:?}: unexpected {c:?} after a backquoted name"),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    if parts.iter().any(String::is_empty) {
        bail!("{s:?} is not a table name (expected TABLE or DATABASE.TABLE)");
    }
    Ok(parts)
}

/// Walk SQL text as the server's lexer would, calling `code` with the offset of every
/// byte that stands outside strings (`'...'`, `"..."`, with backslash escapes and doubled
/// quotes), quoted names (`` `...` ``) and comments (`#`, `-- `, `/* */`), and `token` at
/// the start of each string or quoted name. The text of an executable comment (`/*! ...
/// */`, `/*M! ... */`) is code to the server, and is walked as code. An unterminated
/// string, name or comment is an error. `line_comment` gets where each `#` or `-- `
/// comment ends: after its line feed, or at the end of the text.
fn walk(
    sql: &str,
    mut code: impl FnMut(usize, u8),
    mut token: impl FnMut(),
    mut line_comment: impl FnMut(usize),
) -> anyhow::Result<()> {
    let b = sql.as_bytes();
    let mut exec_comment = false;
    let mut i = 0;
    while i < b.len() {
        let byte = b[i];
        match byte {
            b'\'' | b'"' | b'`' => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None => bail!("unterminated {} in SQL text", quote_word(byte)),
                        Some(&x) if x == b'\\' && byte != b'`' => j += 2,
                        Some(&x) if x == byte && b.get(j + 1) == Some(&byte) => j += 2,
                        Some(&x) if x == byte => break,
                        Some(_) => j += 1,
                    }
                }
                token();
                i = j + 1;
            }
            b'#' => {
                i = line_end(b, i);
                line_comment(i);
            }
            b'-' if b.get(i + 1) == Some(&b'-')
                && b.get(i + 2).is_none_or(u8::is_ascii_whitespace) =>
            {
                i = line_end(b, i);
                line_comment(i);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let rest = &b[i + 2..];
                if rest.starts_with(b"!") || rest.starts_with(b"M!") {
                    exec_comment = true;
                    i += if rest[0] == b'!' { 3 } else { 4 };
                    continue;
                }
                let Some(end) = memchr::memmem::find(rest, b"*/") else {
                    bail!("unterminated /* comment in SQL text");
                };
                i += 2 + end + 2;
            }
            b'*' if exec_comment && b.get(i + 1) == Some(&b'/') => {
                exec_comment = false;
                i += 2;
            }
            other => {
                code(i, other);
                i += 1;
            }
        }
    }
    if exec_comment {
        bail!("unterminated /*! comment in SQL text");
    }
    Ok(())
}

fn quote_word(q: u8) -> &'static str {
    match q {
        b'`' => "`quoted name`",
        b'"' => "\"string\"",
        _ => "'string'",
    }
}

fn line_end(b: &[u8], i: usize) -> usize {
    memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n + 1)
}

/// Cut SQL text into its statements at the `;` that `walk` finds in code. Statements
/// that are only white space and comments are left out.
pub fn statements(sql: &str) -> anyhow::Result<Vec<&str>> {
    let has_code = std::cell::Cell::new(false);
    let mut ends = Vec::new();
    walk(
        sql,
        |i, c| match c {
            b';' => ends.push((i, has_code.replace(false))),
            c if !c.is_ascii_whitespace() => has_code.set(true),
            _ => {}
        },
        || has_code.set(true),
        |_| {},
    )?;
    let mut out = Vec::new();
    let mut start = 0;
    for (end, code) in ends.into_iter().chain([(sql.len(), has_code.get())]) {
        if code {
            out.push(sql[start..end].trim());
        }
        start = end + 1;
    }
    Ok(out)
}

/// The statements of a SQL script as the `mariadb` client reads it: separated by the
/// current delimiter (`;`, changed by a `DELIMITER x` line, as mysqldump writes around
/// routines and triggers) where it stands in code, not in a string, name or comment.
/// Takes CRLF line ends and any text in names and strings.
pub fn script(sql: &str) -> anyhow::Result<Vec<&str>> {
    let mut out = Vec::new();
    let mut delim = ";";
    let mut start = 0; // where the current part of the script begins
    let mut rest = sql;
    loop {
        // The next DELIMITER line, if any, ends this part.
        let (part, next) = match find_delimiter_line(rest) {
            Some((at, len, d)) => (&rest[..at], Some((at + len, d))),
            None => (rest, None),
        };
        let base = start;
        let mut cut = 0; // offset in `part` after the last delimiter
        let mut ends = Vec::new();
        let pb = part.as_bytes();
        walk(
            part,
            |i, _| {
                if i >= cut && pb[i..].starts_with(delim.as_bytes()) {
                    ends.push(i);
                    cut = i + delim.len();
                }
            },
            || {},
            |_| {},
        )?;
        let mut from = 0;
        for e in ends {
            push_statement(&mut out, &sql[base + from..base + e]);
            from = e + delim.len();
        }
        push_statement(&mut out, &sql[base + from..base + part.len()]);
        match next {
            Some((skip, d)) => {
                delim = d;
                start += skip;
                rest = &sql[start..];
            }
            None => return Ok(out),
        }
    }
}

/// A statement of a script, unless it is only white space and comments.
fn push_statement<'s>(out: &mut Vec<&'s str>, stmt: &'s str) {
    let has_code = std::cell::Cell::new(false);
    let seen = walk(
        stmt,
        |_, c| has_code.set(has_code.get() || !c.is_ascii_whitespace()),
        || has_code.set(true),
        |_| {},
    );
    if seen.is_err() || has_code.get() {
        out.push(stmt.trim());
    }
}

/// The first `DELIMITER x` line of `sql`: its offset, its length (with its line end) and
/// the new delimiter.
fn find_delimiter_line(sql: &str) -> Option<(usize, usize, &str)> {
    let mut at = 0;
    for line in sql.split_inclusive('\n') {
        let text = line.trim_end_matches(['\r', '\n']).trim_start();
        if let Some((word, d)) = text.split_once(char::is_whitespace) {
            if word.eq_ignore_ascii_case("DELIMITER") && !d.trim().is_empty() {
                return Some((at, line.len(), d.trim()));
            }
        }
        at += line.len();
    }
    None
}

/// The one statement of `sql` (a trailing `;` allowed), or an error naming `what`: the
/// tools never send several statements in one query, so nothing the user writes can end
/// the statement qtools built and start another.
pub fn single_statement<'s>(what: &str, sql: &'s str) -> anyhow::Result<&'s str> {
    match statements(sql).map_err(|e| anyhow::anyhow!("{what}: {e}"))?[..] {
        [one] => Ok(one),
        [] => bail!("{what}: no SQL statement"),
        _ => bail!("{what}: one SQL statement only (found a second after a ';')"),
    }
}

/// One token of SQL text (see [`tokens`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A keyword or unquoted name (`CREATE`, `users`, `utf8mb4_bin`), as written.
    Word(String),
    /// A backquoted name, unquoted (`` `a``b` `` is `a`b`).
    Quoted(String),
    /// A string literal, unquoted (`'it''s'` is `it's`; backslash escapes read).
    Str(String),
    /// Digits (with a sign, a point or an exponent).
    Number(String),
    /// Anything else, one character: `( ) , . = @ ;`.
    Punct(char),
}

impl Token {
    /// This keyword, in any case.
    pub fn is(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(word))
    }

    /// A name, quoted or not (a keyword is a name too, as the server allows).
    pub fn name(&self) -> Option<&str> {
        match self {
            Token::Word(w) | Token::Quoted(w) => Some(w),
            _ => None,
        }
    }
}

/// The tokens of one statement, comments left out; at most `max` of them. An executable
/// comment (`/*! ... */`, `/*M! ... */`), whose content the server runs or not by its
/// version, is an error: what it holds cannot be read for sure.
pub fn tokens(sql: &str, max: usize) -> anyhow::Result<Vec<Token>> {
    let text = sql.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() && out.len() < max {
        let byte = text[pos];
        match byte {
            c if c.is_ascii_whitespace() => pos += 1,
            b'#' => pos = line_end(text, pos),
            b'-' if text.get(pos + 1) == Some(&b'-')
                && text.get(pos + 2).is_none_or(u8::is_ascii_whitespace) =>
            {
                pos = line_end(text, pos);
            }
            b'/' if text.get(pos + 1) == Some(&b'*') => {
                let rest = &text[pos + 2..];
                if rest.starts_with(b"!") || rest.starts_with(b"M!") {
                    bail!("an executable comment (/*! ... */), which runs or not by the server's version");
                }
                let Some(close) = memchr::memmem::find(rest, b"*/") else {
                    bail!("unterminated /* comment in SQL text");
                };
                pos += 2 + close + 2;
            }
            b'\'' | b'"' | b'`' => {
                let mut value = Vec::new();
                let mut end = pos + 1;
                loop {
                    match text.get(end) {
                        None => bail!("unterminated {} in SQL text", quote_word(byte)),
                        Some(&x) if x == b'\\' && byte != b'`' => {
                            let escaped = *text.get(end + 1).unwrap_or(&b'\\');
                            value.push(match escaped {
                                b'n' => b'\n',
                                b't' => b'\t',
                                b'r' => b'\r',
                                b'0' => 0,
                                b'Z' => 26,
                                b'b' => 8,
                                other => other,
                            });
                            end += 2;
                        }
                        Some(&x) if x == byte && text.get(end + 1) == Some(&byte) => {
                            value.push(byte);
                            end += 2;
                        }
                        Some(&x) if x == byte => break,
                        Some(&x) => {
                            value.push(x);
                            end += 1;
                        }
                    }
                }
                let value = String::from_utf8_lossy(&value).into_owned();
                out.push(if byte == b'`' {
                    Token::Quoted(value)
                } else {
                    Token::Str(value)
                });
                pos = end + 1;
            }
            c if c.is_ascii_digit() => {
                let start = pos;
                while pos < text.len() && (text[pos].is_ascii_alphanumeric() || text[pos] == b'.') {
                    pos += 1;
                }
                out.push(Token::Number(sql[start..pos].to_owned()));
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = pos;
                while pos < text.len()
                    && (text[pos].is_ascii_alphanumeric()
                        || text[pos] == b'_'
                        || text[pos] == b'$'
                        || text[pos] >= 0x80)
                {
                    pos += 1;
                }
                out.push(Token::Word(sql[start..pos].to_owned()));
            }
            _ => {
                let ch = sql[pos..].chars().next().unwrap_or('?');
                out.push(Token::Punct(ch));
                pos += ch.len_utf8();
            }
        }
    }
    Ok(out)
}

/// Whether `sql` begins with these keywords (any case, any white space between them).
pub fn starts_with_words(sql: &str, words: &[&str]) -> bool {
    let mut it = sql.split_ascii_whitespace();
    words
        .iter()
        .all(|w| it.next().is_some_and(|x| x.eq_ignore_ascii_case(w)))
}

/// Check a piece of SQL that qtools puts inside a statement of its own (`--where`,
/// `--order-by`): something besides comments, no `;`, nothing left open, parentheses
/// balanced, and no `#` or `-- ` comment running to its end (it would hide what follows
/// it in the statement, a `LIMIT` say), so that it cannot end or reshape the statement
/// around it. (The server then judges the whole statement: see qexport's `only_select`.)
pub fn check_fragment(what: &str, sql: &str) -> anyhow::Result<()> {
    let (mut semicolon, mut depth, mut below) = (false, 0i64, false);
    let mut open_comment = false;
    let content = std::cell::Cell::new(false);
    walk(
        sql,
        |_, c| match c {
            b';' => semicolon = true,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                below |= depth < 0;
            }
            c if !c.is_ascii_whitespace() => content.set(true),
            _ => {}
        },
        || content.set(true),
        |end| open_comment |= end == sql.len() && !sql.ends_with('\n'),
    )
    .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    if open_comment {
        bail!("{what}: a '#' or '-- ' comment here would hide the rest of the statement (end it with a line break, or use /* ... */)");
    }
    if semicolon {
        bail!("{what}: a ';' is not allowed here (one condition or expression, not statements)");
    }
    if below {
        bail!("{what}: a ')' closes a parenthesis it did not open");
    }
    if depth != 0 {
        bail!("{what}: a '(' is never closed");
    }
    if !content.get() {
        bail!("{what}: empty");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_only_outside_strings_names_and_comments() {
        let s =
            statements("SELECT ';' , `a;b`, \"x\\\";\" -- c;\n# d;\n/* e; */ FROM t; ").unwrap();
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(statements("SELECT 1; DROP TABLE x").unwrap().len(), 2);
        assert_eq!(
            statements("SELECT 1 /*! ; DROP TABLE x */").unwrap().len(),
            2
        );
        assert_eq!(statements("SELECT 'it''s';;  -- done").unwrap().len(), 1);
        assert_eq!(statements("SELECT 1--1; SELECT 2").unwrap().len(), 2);
        assert!(statements("SELECT 'open").is_err());
        assert!(statements("SELECT 1 /* open").is_err());
        assert_eq!(single_statement("-e", "SELECT 1;").unwrap(), "SELECT 1");
        assert!(single_statement("-e", "SELECT 1; DELETE FROM t").is_err());
        assert!(single_statement("-e", " -- nothing\n").is_err());
    }

    #[test]
    fn scripts_follow_delimiter_lines() {
        let sql = "-- head\r\nSET x = 1;\r\nCREATE TABLE `é;` (a TEXT DEFAULT ';');\r\n\
                   DELIMITER ;;\r\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET @a = 1; SET @b = ';;'; END;;\r\n\
                   DELIMITER ;\r\nCREATE VIEW v AS SELECT 1;\r\n";
        assert_eq!(
            script(sql).unwrap(),
            [
                "-- head\r\nSET x = 1",
                "CREATE TABLE `é;` (a TEXT DEFAULT ';')",
                "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET @a = 1; SET @b = ';;'; END",
                "CREATE VIEW v AS SELECT 1",
            ]
        );
    }

    #[test]
    fn fragments_cannot_reshape_their_statement() {
        assert!(check_fragment("--where", "a = ';' AND (b > 1)").is_ok());
        assert!(check_fragment("--where", "name = ')'").is_ok());
        assert!(check_fragment("--order-by", "id -- first\n").is_ok());
        assert!(check_fragment("--order-by", "id /* x */").is_ok());
        for bad in [
            "1) ORDER BY id; DROP TABLE db.victim; SELECT (1",
            "1) UNION SELECT * FROM mysql.user WHERE (1",
            "a = 1;",
            "(a = 1",
            "a = 'x",
            "a /* open",
            "",
            "id -- ",
            "id # x",
        ] {
            assert!(check_fragment("--where", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_of_a_statement_head() {
        use Token::{Number, Punct, Quoted, Str, Word};
        let t = tokens(
            "/* c */ CREATE DEFINER=`a``b`@'%' -- x\n TRIGGER d.`t r` 'i\\'s' 12.5;",
            20,
        )
        .unwrap();
        assert_eq!(
            t,
            [
                Word("CREATE".into()),
                Word("DEFINER".into()),
                Punct('='),
                Quoted("a`b".into()),
                Punct('@'),
                Str("%".into()),
                Word("TRIGGER".into()),
                Word("d".into()),
                Punct('.'),
                Quoted("t r".into()),
                Str("i's".into()),
                Number("12.5".into()),
                Punct(';'),
            ]
        );
        assert!(t[0].is("create") && t[9].name() == Some("t r"));
        assert_eq!(tokens("a b c d", 2).unwrap().len(), 2);
        assert!(tokens("/*!50001 CREATE */", 5).is_err());
        assert!(tokens("SELECT 'open", 5).is_err());
    }

    #[test]
    fn string_literals() {
        assert_eq!(quote_string("it's a \\ \0"), "'it''s a \\\\ \\0'");
    }

    #[test]
    fn names() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        let t = TableName::parse("shop.users").unwrap();
        assert_eq!(t.quoted(), "`shop`.`users`");
        let t = TableName::parse("`my.db`.`we``ird`").unwrap();
        assert_eq!(t.database.as_deref(), Some("my.db"));
        assert_eq!(t.table, "we`ird");
        assert!(TableName::parse("a.b.c").is_err());
        assert!(TableName::parse("").is_err());
        assert!(TableName::parse("a.").is_err());
    }
}
