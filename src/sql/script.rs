//! The statements of SQL text the user gives: one statement (`-e`, `--schema`), a piece
//! of one (`--where`, `--order-by`), or a script (a backup's `schema.sql`, with its
//! `DELIMITER` lines and the `sql_mode` it sets), cut where the server would cut them.

use anyhow::bail;

use super::lex::{line_end, Lexeme, Lexing, Scanner};
use super::tokens;

/// Walk `sql` under `lexing`, calling `code` with the offset of every byte of code (not in
/// a string, quoted name or comment; an executable comment's content is code), `quoted`
/// at each string or quoted name, and `line_comment` with where each `#` or `-- ` comment
/// ends (after its line feed, or at the end of the text).
fn walk(
    sql: &str,
    lexing: Lexing,
    mut code: impl FnMut(usize, u8),
    mut quoted: impl FnMut(),
    mut line_comment: impl FnMut(usize),
) -> anyhow::Result<()> {
    let mut scan = Scanner::new(sql, lexing);
    while let Some((lexeme, span)) = scan.next()? {
        match lexeme {
            Lexeme::Code(c) => code(span.start, c),
            Lexeme::Quoted => quoted(),
            Lexeme::LineComment => line_comment(span.end),
            Lexeme::BlockComment | Lexeme::Versioned => {}
        }
    }
    Ok(())
}

/// Whether `sql`, read under `lexing`, holds a `;` in code (not in a string, a quoted
/// name or a comment): where a server that runs several statements per query could start
/// a second one.
pub fn has_semicolon(sql: &str, lexing: Lexing) -> anyhow::Result<bool> {
    let mut found = false;
    walk(sql, lexing, |_, c| found |= c == b';', || {}, |_| {})?;
    Ok(found)
}

/// Cut SQL text into its statements at the `;` that stand in code. Statements that are
/// only white space and comments are left out.
pub fn statements(sql: &str) -> anyhow::Result<Vec<&str>> {
    let has_code = std::cell::Cell::new(false);
    let mut ends = Vec::new();
    walk(
        sql,
        Lexing::PLAIN,
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

/// The statements of a SQL script as the `mariadb` client and the server read it:
/// separated by the current delimiter (`;`, changed by a `DELIMITER x` line, as mysqldump
/// writes around routines and triggers) where it stands in code, and read under the
/// `sql_mode` the script itself sets (`SET SESSION sql_mode = '...'`, from `lexing` on):
/// under `NO_BACKSLASH_ESCAPES` a `\` ends no string, under `ANSI_QUOTES` `"` quotes a
/// name. Takes CRLF line ends and any text in names and strings. Each statement comes
/// with the lexing it is read under (the mode set before it).
pub fn script(sql: &str, mut lexing: Lexing) -> anyhow::Result<Vec<(&str, Lexing)>> {
    let mut out = Vec::new();
    let mut delim = ";";
    let mut pos = 0;
    while pos < sql.len() {
        // A DELIMITER line where a statement may start.
        let ws = sql[pos..].len() - sql[pos..].trim_start().len();
        if let Some((len, d)) = delimiter_line(&sql[pos + ws..]) {
            delim = d;
            pos += ws + len;
            continue;
        }
        let (end, next) = statement_end(sql, pos, delim, lexing)?;
        let stmt = &sql[pos..end];
        if has_code(stmt, lexing) {
            let stmt = stmt.trim();
            out.push((stmt, lexing));
            if let Some(mode) = sets_sql_mode(stmt, lexing) {
                lexing = Lexing::of_mode(&mode);
            }
        }
        pos = next;
    }
    Ok(out)
}

/// Where the statement that starts at `from` ends (at the delimiter, or at a line that
/// changes it, or at the end of the text), and where the next one starts.
fn statement_end(
    sql: &str,
    from: usize,
    delim: &str,
    lexing: Lexing,
) -> anyhow::Result<(usize, usize)> {
    let part = &sql[from..];
    let b = part.as_bytes();
    let mut scan = Scanner::new(part, lexing);
    let mut line_start = true;
    while let Some((lexeme, span)) = scan.next()? {
        match lexeme {
            Lexeme::Code(_) if b[span.start..].starts_with(delim.as_bytes()) => {
                return Ok((from + span.start, from + span.start + delim.len()));
            }
            Lexeme::Code(b'\n') => line_start = true,
            Lexeme::Code(c) if line_start && c.is_ascii_whitespace() => {}
            Lexeme::Code(_) if line_start => {
                line_start = false;
                // (A byte of code may be part of a letter: a line starting with one is
                // no DELIMITER line.)
                let line = part.get(span.start..).unwrap_or_default();
                if delimiter_line(line).is_some() {
                    return Ok((from + span.start, from + span.start));
                }
            }
            Lexeme::LineComment => line_start = b.get(span.end - 1) == Some(&b'\n'),
            _ => line_start = false,
        }
    }
    Ok((sql.len(), sql.len()))
}

/// `DELIMITER x` at the start of `text`: the length of its line (with its line end) and
/// the new delimiter.
fn delimiter_line(text: &str) -> Option<(usize, &str)> {
    let end = line_end(text.as_bytes(), 0);
    let line = text[..end].trim_end_matches(['\r', '\n']);
    let (word, d) = line.split_once(char::is_whitespace)?;
    (word.eq_ignore_ascii_case("DELIMITER") && !d.trim().is_empty()).then(|| (end, d.trim()))
}

/// The mode a statement `SET [SESSION] sql_mode = '...'` sets, if it is one.
fn sets_sql_mode(stmt: &str, lexing: Lexing) -> Option<String> {
    let t = tokens(stmt, lexing, 8).ok()?;
    let i = if t.get(1).is_some_and(|w| w.is("SESSION")) {
        2
    } else {
        1
    };
    match (t.first(), t.get(i), t.get(i + 1), t.get(i + 2), t.len()) {
        (Some(set), Some(var), Some(super::Token::Punct('=')), Some(super::Token::Str(m)), n)
            if set.is("SET") && var.is("sql_mode") && n == i + 3 =>
        {
            Some(m.clone())
        }
        _ => None,
    }
}

/// Does a piece of a script hold code (not only white space and comments)? An error in
/// it (an unterminated string) counts as code: the statement then fails where it runs.
fn has_code(stmt: &str, lexing: Lexing) -> bool {
    let code = std::cell::Cell::new(false);
    let seen = walk(
        stmt,
        lexing,
        |_, c| code.set(code.get() || !c.is_ascii_whitespace()),
        || code.set(true),
        |_| {},
    );
    seen.is_err() || code.get()
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

/// Check a piece of SQL that qtools puts inside a statement of its own (`--where`,
/// `--order-by`): something besides comments, no `;`, nothing left open, parentheses
/// balanced, no executable comment (the server may read it as code or not: what it holds
/// could close a parenthesis), and no `#` or `-- ` comment running to its end (it would
/// hide what follows it in the statement, a `LIMIT` say), so that it cannot end or
/// reshape the statement around it. (The server then judges the whole statement: see
/// qexport's `only_select`.)
pub fn check_fragment(what: &str, sql: &str) -> anyhow::Result<()> {
    let (mut semicolon, mut depth, mut below) = (false, 0i64, false);
    let mut open_comment = false;
    let content = std::cell::Cell::new(false);
    let mut scan = Scanner::new(sql, Lexing::PLAIN);
    let mut versioned = false;
    while let Some((lexeme, span)) = scan.next().map_err(|e| anyhow::anyhow!("{what}: {e}"))? {
        match lexeme {
            Lexeme::Versioned => versioned = true,
            Lexeme::Quoted => content.set(true),
            Lexeme::LineComment => {
                open_comment |= span.end == sql.len() && !sql.ends_with('\n');
            }
            Lexeme::Code(b';') => semicolon = true,
            Lexeme::Code(b'(') => depth += 1,
            Lexeme::Code(b')') => {
                depth -= 1;
                below |= depth < 0;
            }
            Lexeme::Code(c) if !c.is_ascii_whitespace() => content.set(true),
            Lexeme::BlockComment | Lexeme::Code(_) => {}
        }
    }
    if versioned {
        bail!("{what}: an executable comment (/*! ... */) is not allowed here (the server reads it as code or not, by its version)");
    }
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
        assert_eq!(statements("SELECT 'it''s';;  -- done").unwrap().len(), 1);
        assert_eq!(statements("SELECT 1--1; SELECT 2").unwrap().len(), 2);
        assert!(statements("SELECT 'open").is_err());
        assert!(statements("SELECT 1 /* open").is_err());
        assert!(statements("SELECT 1 /*! ; DROP TABLE x */").is_err());
        assert_eq!(single_statement("-e", "SELECT 1;").unwrap(), "SELECT 1");
        assert!(single_statement("-e", "SELECT 1; DELETE FROM t").is_err());
        assert!(single_statement("-e", " -- nothing\n").is_err());
    }

    #[test]
    fn scripts_follow_delimiter_lines() {
        let sql = "-- head\r\nSET x = 1;\r\nCREATE TABLE `é;` (a TEXT DEFAULT ';');\r\n\
                   DELIMITER ;;\r\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET @a = 1; SET @b = ';;'; END;;\r\n\
                   DELIMITER ;\r\nCREATE VIEW v AS SELECT 1;\r\n";
        let cut: Vec<&str> = script(sql, Lexing::PLAIN)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(
            cut,
            [
                "-- head\r\nSET x = 1",
                "CREATE TABLE `é;` (a TEXT DEFAULT ';')",
                "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET @a = 1; SET @b = ';;'; END",
                "CREATE VIEW v AS SELECT 1",
            ]
        );
        // A letter (a byte-order mark too) at the start of a statement is code, not a
        // place to cut a character in two.
        let odd = script(
            "\u{feff}CREATE TABLE t (a int);\n\u{e9}x;\u{20ac};",
            Lexing::PLAIN,
        )
        .unwrap();
        assert_eq!(odd.len(), 3);
    }

    // See: #23 (5): a script is cut as the server reads it, under the sql_mode it sets: a
    // backslash that ends a string under NO_BACKSLASH_ESCAPES cannot hide a second
    // statement, and an honest routine made under that mode is one statement.
    #[test]
    fn scripts_follow_the_sql_mode_they_set() {
        let sql = "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';\n\
                   CREATE TABLE t (v TEXT DEFAULT 'a\\'); DROP TABLE victim; -- ');\n\
                   SET SESSION sql_mode = '';\n";
        let s = script(sql, Lexing::PLAIN).unwrap();
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(s[2].0, "DROP TABLE victim");
        assert!(s[1].1.no_backslash_escapes && !s[0].1.no_backslash_escapes);
        let honest = "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';\nDELIMITER ;;\n\
                      CREATE PROCEDURE p() SELECT 'C:\\' AS path;;\nDELIMITER ;\n";
        assert_eq!(script(honest, Lexing::PLAIN).unwrap().len(), 2);
        let ansi = "SET SESSION sql_mode = 'ANSI_QUOTES';\nCREATE VIEW \"v;\" AS SELECT 1;\n";
        assert_eq!(
            script(ansi, Lexing::PLAIN).unwrap()[1].0,
            "CREATE VIEW \"v;\" AS SELECT 1"
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
            "id --\x0b",
            "1 /*!99999 ( */ ) or ( /*!99999 ) */ 1",
            "1 /*!100000 + 1 */",
        ] {
            assert!(check_fragment("--where", bad).is_err(), "{bad}");
        }
    }
}
