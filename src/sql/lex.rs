//! How the server reads SQL text: where strings, quoted names and comments begin and end,
//! under the session's `sql_mode` ([`Lexing`]: `NO_BACKSLASH_ESCAPES` makes `\` a plain
//! character; `ANSI_QUOTES`, and the modes that hold it, make `"` quote a name). qtools
//! reads SQL text only to find its structure (where a statement ends, what a statement
//! creates), and it must read it exactly as the server will, or a `;` the server sees
//! could hide inside what qtools took for a string.
//!
//! An executable comment (`/*!50100 ... */`, `/*M!100301 ... */`) is code to the server or
//! a comment, by its version (MariaDB reads `/*!` of MySQL 5.7 to 9 as comments); so that
//! it cannot matter which, its content may not hold anything that changes the structure
//! (a quote, a `;`, a comment): such a comment is refused.

use super::quote_ident;
use anyhow::bail;

/// How the server's lexer reads text under a session's `sql_mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lexing {
    /// `NO_BACKSLASH_ESCAPES`: a backslash in a string is a character like another.
    pub no_backslash_escapes: bool,
    /// `ANSI_QUOTES` (or ANSI, DB2, MAXDB, MSSQL, ORACLE, POSTGRESQL, which hold it): `"`
    /// quotes a name, not a string.
    pub ansi_quotes: bool,
}

impl Lexing {
    /// The modes qtools' own sessions run under (neither switch set).
    pub const PLAIN: Lexing = Lexing {
        no_backslash_escapes: false,
        ansi_quotes: false,
    };

    /// The lexing of a session whose `sql_mode` is `mode` (a comma-separated list).
    pub fn of_mode(mode: &str) -> Lexing {
        let words: Vec<String> = mode
            .split(',')
            .map(|w| w.trim().to_ascii_uppercase())
            .collect();
        let has = |w: &str| words.iter().any(|x| x == w);
        Lexing {
            no_backslash_escapes: has("NO_BACKSLASH_ESCAPES"),
            ansi_quotes: [
                "ANSI_QUOTES",
                "ANSI",
                "DB2",
                "MAXDB",
                "MSSQL",
                "ORACLE",
                "POSTGRESQL",
            ]
            .iter()
            .any(|w| has(w)),
        }
    }
}

/// What the scanner met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lexeme {
    /// A byte of code.
    Code(u8),
    /// A string or quoted name, whole.
    Quoted,
    /// A `#` or `-- ` comment, up to and with its line feed (if it has one).
    LineComment,
    /// A `/* */` comment.
    BlockComment,
    /// The start (`/*!NNNNN`) or the end (`*/`) of an executable comment.
    Versioned,
}

/// The server's lexer, as far as structure goes: each lexeme of `sql` with where it starts
/// and ends.
pub(super) struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
    lexing: Lexing,
    versioned: bool,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(sql: &'a str, lexing: Lexing) -> Self {
        Scanner {
            text: sql.as_bytes(),
            pos: 0,
            lexing,
            versioned: false,
        }
    }

    /// The next lexeme and where it lies; `Ok(None)` at the end of the text. An
    /// unterminated string, name or comment is an error.
    pub(super) fn next(&mut self) -> anyhow::Result<Option<(Lexeme, std::ops::Range<usize>)>> {
        let b = self.text;
        let start = self.pos;
        let Some(&byte) = b.get(start) else {
            if self.versioned {
                bail!("unterminated /*! comment in SQL text");
            }
            return Ok(None);
        };
        let (lexeme, end) = match byte {
            b'\'' | b'"' | b'`' => (Lexeme::Quoted, self.quoted_end(start)?),
            b'#' => (Lexeme::LineComment, line_end(b, start)),
            // `--` starts a comment before white space or any control character.
            b'-' if b.get(start + 1) == Some(&b'-')
                && b.get(start + 2).is_none_or(|c| *c <= b' ' || *c == 0x7f) =>
            {
                (Lexeme::LineComment, line_end(b, start))
            }
            b'*' if self.versioned && b.get(start + 1) == Some(&b'/') => {
                self.versioned = false;
                (Lexeme::Versioned, start + 2)
            }
            b'/' if b.get(start + 1) == Some(&b'*') => {
                let rest = &b[start + 2..];
                let Some(close) = memchr::memmem::find(rest, b"*/") else {
                    bail!("unterminated /* comment in SQL text");
                };
                match [&b"!"[..], b"M!"].iter().find(|m| rest.starts_with(m)) {
                    Some(marker) => {
                        if self.versioned {
                            bail!("an executable comment (/*! ... */) inside another");
                        }
                        let content = &rest[marker.len()..close];
                        let structural = content.iter().any(|c| b"'\"`;#".contains(c))
                            || memchr::memmem::find(content, b"--").is_some()
                            || memchr::memmem::find(content, b"/*").is_some();
                        if structural {
                            bail!(
                                "an executable comment (/*! ... */) holding a quote, a ';' or a comment: \
                                 the server reads it as code or not by its version, so where the text's \
                                 strings and statements end cannot be told"
                            );
                        }
                        self.versioned = true;
                        let mut end = start + 2 + marker.len();
                        while b.get(end).is_some_and(u8::is_ascii_digit) {
                            end += 1;
                        }
                        (Lexeme::Versioned, end)
                    }
                    None => (Lexeme::BlockComment, start + 2 + close + 2),
                }
            }
            other => (Lexeme::Code(other), start + 1),
        };
        self.pos = end;
        Ok(Some((lexeme, start..end)))
    }

    /// Where the string or quoted name at `start` ends (after its closing quote): `\`
    /// escapes in strings unless `NO_BACKSLASH_ESCAPES`, a doubled quote stands for one.
    fn quoted_end(&self, start: usize) -> anyhow::Result<usize> {
        let b = self.text;
        let q = b[start];
        let string = q == b'\'' || (q == b'"' && !self.lexing.ansi_quotes);
        let escapes = string && !self.lexing.no_backslash_escapes;
        let mut j = start + 1;
        loop {
            match b.get(j) {
                None => bail!("unterminated {} in SQL text", quote_word(q, string)),
                Some(b'\\') if escapes => j += 2,
                Some(&x) if x == q && b.get(j + 1) == Some(&q) => j += 2,
                Some(&x) if x == q => return Ok(j + 1),
                Some(_) => j += 1,
            }
        }
    }

    /// Is the quote at `start` a string (not a quoted name)?
    fn is_string(&self, start: usize) -> bool {
        let q = self.text[start];
        q == b'\'' || (q == b'"' && !self.lexing.ansi_quotes)
    }
}

fn quote_word(q: u8, string: bool) -> &'static str {
    match (q, string) {
        (b'`', _) => "`quoted name`",
        (b'"', false) => "\"quoted name\"",
        (b'"', true) => "\"string\"",
        _ => "'string'",
    }
}

pub(super) fn line_end(b: &[u8], i: usize) -> usize {
    memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n + 1)
}

/// One token of SQL text (see [`tokens`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A keyword or unquoted name (`CREATE`, `users`, `utf8mb4_bin`), as written.
    Word(String),
    /// A quoted name, unquoted (`` `a``b` `` is `a`b`; `"x"` under ANSI_QUOTES).
    Quoted(String),
    /// A string literal, unquoted (`'it''s'` is `it's`; backslash escapes read).
    Str(String),
    /// Digits (with a sign, a point or an exponent).
    Number(String),
    /// Anything else, one character: `( ) , . = @ ;`.
    Punct(char),
    /// The start of an executable comment (`/*!50001`, `/*M!100301`): what follows, to its
    /// `*/`, the server reads as code or not at all, by its version. Its content comes as
    /// tokens, read as code.
    Versioned,
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

/// The tokens of one statement, comments left out; at most `max` of them.
pub fn tokens(sql: &str, lexing: Lexing, max: usize) -> anyhow::Result<Vec<Token>> {
    Ok(spanned(sql, lexing, max)?
        .into_iter()
        .map(|(t, _)| t)
        .collect())
}

/// [`tokens`], each with where it stands in `sql`.
pub fn spanned(
    sql: &str,
    lexing: Lexing,
    max: usize,
) -> anyhow::Result<Vec<(Token, std::ops::Range<usize>)>> {
    let text = sql.as_bytes();
    let mut scan = Scanner::new(sql, lexing);
    let mut out = Vec::new();
    while out.len() < max {
        let Some((lexeme, span)) = scan.next()? else {
            break;
        };
        let start = span.start;
        let token = match lexeme {
            Lexeme::LineComment | Lexeme::BlockComment => continue,
            Lexeme::Versioned if text[start] == b'*' => continue,
            Lexeme::Versioned => Token::Versioned,
            Lexeme::Quoted => {
                let value = unquote(&text[span.clone()], scan.is_string(start), lexing);
                if scan.is_string(start) {
                    Token::Str(value)
                } else {
                    Token::Quoted(value)
                }
            }
            Lexeme::Code(c) if c.is_ascii_whitespace() => continue,
            // `.5`: a number, unless the dot joins a name to the one before it (`t.5x`,
            // right after a name or a quoted one, is the name `5x` of t).
            Lexeme::Code(b'.')
                if text.get(start + 1).is_some_and(u8::is_ascii_digit)
                    && !(start > 0
                        && (is_word_byte(text[start - 1])
                            || matches!(text[start - 1], b'`' | b'"'))) =>
            {
                let end = real_end(text, start + 1);
                scan.pos = end;
                out.push((Token::Number(sql[start..end].to_owned()), start..end));
                continue;
            }
            Lexeme::Code(c) if c.is_ascii_digit() || is_word_byte(c) => {
                // A number where the server reads one (`12`, `12.5`, `1.`, `1e5`, `1e+5`,
                // `0x1F`), and only as far as it does (`1.SELECT` is `1.` and a word);
                // otherwise a name, one that starts with digits included (`9db`, `1e`).
                let number = c
                    .is_ascii_digit()
                    .then(|| number_end(text, start))
                    .flatten();
                let end = number.unwrap_or_else(|| {
                    let mut end = span.end;
                    while text.get(end).is_some_and(|b| is_word_byte(*b)) {
                        end += 1;
                    }
                    end
                });
                scan.pos = end;
                let word = sql[start..end].to_owned();
                out.push((
                    if number.is_some() {
                        Token::Number(word)
                    } else {
                        Token::Word(word)
                    },
                    start..end,
                ));
                continue;
            }
            Lexeme::Code(_) => {
                let ch = sql[start..].chars().next().unwrap_or('?');
                scan.pos = start + ch.len_utf8();
                out.push((Token::Punct(ch), start..scan.pos));
                continue;
            }
        };
        out.push((token, span));
    }
    Ok(out)
}

/// Where the number that starts at `s` (a digit) ends, as MariaDB's lexer reads it
/// (`MY_LEX_NUMBER_IDENT`, sql_lex.cc), or `None` when the word there is a name:
/// - `0x1F`, `0b101`: a hex or bit literal when no name character follows, else a name;
/// - digits then `e`/`E`, a sign maybe, and a digit: a float, ending where its exponent's
///   digits end, whatever follows (`1e1SELECT` is `1e1` and `SELECT`);
/// - digits then another name character: a name (`9db`, `1e` with no digit after it);
/// - digits, then maybe `.` and a decimal part (see [`real_end`]).
fn number_end(t: &[u8], s: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        while t.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let word_at = |i: usize| t.get(i).is_some_and(|b| is_word_byte(*b));
    if let Some(&kind @ (b'x' | b'b')) = t.get(s + 1).filter(|_| t[s] == b'0') {
        let mut i = s + 2;
        while t.get(i).is_some_and(|b| {
            if kind == b'x' {
                b.is_ascii_hexdigit()
            } else {
                matches!(b, b'0' | b'1')
            }
        }) {
            i += 1;
        }
        return (i > s + 2 && !word_at(i)).then_some(i);
    }
    let i = digits(s);
    if !word_at(i) {
        return Some(if t.get(i) == Some(&b'.') {
            real_end(t, i + 1)
        } else {
            i
        });
    }
    if matches!(t[i], b'e' | b'E') {
        let j = if matches!(t.get(i + 1), Some(b'+' | b'-')) {
            i + 2
        } else {
            i + 1
        };
        if t.get(j).is_some_and(u8::is_ascii_digit) {
            return Some(digits(j));
        }
    }
    None
}

/// Where a number ends whose decimal part starts at `i` (after its `.`): digits, then an
/// exponent when `e`/`E` (a sign maybe) and a digit follow (`MY_LEX_REAL`).
fn real_end(t: &[u8], mut i: usize) -> usize {
    while t.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(t.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if t.get(j).is_some_and(u8::is_ascii_digit) {
            while t.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            return j;
        }
    }
    i
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The value of a whole quoted lexeme.
fn unquote(lexeme: &[u8], string: bool, lexing: Lexing) -> String {
    let q = lexeme[0];
    let inner = &lexeme[1..lexeme.len() - 1];
    let escapes = string && !lexing.no_backslash_escapes;
    let mut value = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'\\' if escapes && i + 1 < inner.len() => {
                value.push(match inner[i + 1] {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'0' => 0,
                    b'Z' => 26,
                    b'b' => 8,
                    other => other,
                });
                i += 2;
            }
            x if x == q && inner.get(i + 1) == Some(&q) => {
                value.push(q);
                i += 2;
            }
            x => {
                value.push(x);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&value).into_owned()
}

/// How much of a definition [`unqualify`] rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifiers {
    /// Only the object's own name and a trigger's table (`CREATE TRIGGER db.tr ... ON
    /// db.t`): the head, which the server writes as it was given; the body stays as it is.
    Head,
    /// Every qualifier that can only name the database: a three-part name (`db.t.c`), a
    /// routine called (`db.f(`), a name where a table stands (after FROM, JOIN, INTO,
    /// UPDATE, CALL, REFERENCES...). Any other `db.x` could be a column of a table or an
    /// alias named like the database: an error names it.
    Everywhere,
    /// Only routines called (`db.f(`): in a view's text, the server names its own
    /// database's tables without it, and `db.x` is a column of a table `db`.
    Calls,
}

/// `sql` with the qualifiers naming the database `db` taken off (`` `db`.`t` `` is
/// `` `t` ``, `` `db`.`t`.`c` `` is `` `t`.`c` ``), or made `to`'s when given (`db.f(` is
/// `` `to`.f( ``: a call that stays a call of the database's own function, where without
/// a qualifier it could call a built-in of that name), where `which` says, so that the
/// definition refers to whichever database it is created in. Strings and comments are
/// left alone.
pub fn unqualify(
    sql: &str,
    db: &str,
    lexing: Lexing,
    which: Qualifiers,
    to: Option<&str>,
) -> anyhow::Result<String> {
    const TABLE_PLACES: &[&str] = &[
        "FROM",
        "JOIN",
        "INTO",
        "UPDATE",
        "TABLE",
        "TABLES",
        "CALL",
        "REFERENCES",
        "DELETE",
        "INSERT",
        "REPLACE",
        "TRUNCATE",
        "FOR",
        "EXISTS",
        "STRAIGHT_JOIN",
    ];
    const HEAD_PLACES: &[&str] = &[
        "TRIGGER",
        "PROCEDURE",
        "FUNCTION",
        "EVENT",
        "VIEW",
        "SEQUENCE",
    ];
    let toks = spanned(sql, lexing, usize::MAX)?;
    let word = |j: usize, w: &[&str]| toks.get(j).is_some_and(|(t, _)| w.iter().any(|x| t.is(x)));
    let mut out = String::with_capacity(sql.len());
    let mut from = 0;
    let mut unsure = Vec::new();
    for (i, (t, span)) in toks.iter().enumerate() {
        let after_dot = i > 0 && toks[i - 1].0 == Token::Punct('.');
        let dot_next = toks
            .get(i + 1)
            .is_some_and(|(n, _)| *n == Token::Punct('.'));
        let object = toks.get(i + 2).and_then(|(n, _)| match n {
            Token::Number(d) => Some(d.as_str()),
            n => n.name(),
        });
        let (true, Some(object)) = (t.name() == Some(db) && !after_dot && dot_next, object) else {
            continue;
        };
        let prev = i.checked_sub(1);
        // `CREATE TRIGGER tr BEFORE INSERT ON db.t`: the trigger's table.
        let trigger_table = prev.is_some_and(|p| {
            word(p, &["ON"]) && p >= 1 && word(p - 1, &["INSERT", "UPDATE", "DELETE"])
        });
        let head = prev.is_some_and(|p| word(p, HEAD_PLACES)) || trigger_table;
        let call = toks
            .get(i + 3)
            .is_some_and(|(n, _)| *n == Token::Punct('('));
        let sure = head
            || call
            || toks.get(i + 3).is_some_and(|(n, _)| *n == Token::Punct('.'))
            || prev.is_some_and(|p| word(p, TABLE_PLACES))
            // NEXTVAL(db.s), LASTVAL(db.s), SETVAL(db.s, ...)
            || prev.is_some_and(|p| {
                toks[p].0 == Token::Punct('(') && p >= 1 && word(p - 1, &["NEXTVAL", "LASTVAL", "SETVAL"])
            });
        match which {
            Qualifiers::Head if !head => continue,
            Qualifiers::Calls if !call => continue,
            Qualifiers::Everywhere if !sure => {
                unsure.push(format!("{db}.{object}"));
                continue;
            }
            _ => {}
        }
        out.push_str(&sql[from..span.start]);
        if let Some(to) = to {
            out.push_str(&quote_ident(to));
            out.push('.');
        }
        from = toks[i + 1].1.end;
    }
    if !unsure.is_empty() {
        unsure.dedup();
        anyhow::bail!(
            "{} could name the database {db} or a table (or alias) called {db}, so it \
             cannot be rewritten for another database's name",
            unsure.join(", ")
        );
    }
    out.push_str(&sql[from..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_a_statement_head() {
        use Token::{Number, Punct, Quoted, Str, Word};
        let t = tokens(
            "/* c */ CREATE DEFINER=`a``b`@'%' -- x\n TRIGGER d.`t r` 'i\\'s' 12.5;",
            Lexing::PLAIN,
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
        assert_eq!(tokens("a b c d", Lexing::PLAIN, 2).unwrap().len(), 2);
        assert_eq!(
            tokens("/*!50001 CREATE */ x", Lexing::PLAIN, 5).unwrap(),
            [Token::Versioned, Word("CREATE".into()), Word("x".into())]
        );
        assert!(tokens("/*!50001 CREATE", Lexing::PLAIN, 5).is_err());
        assert!(tokens("SELECT 'open", Lexing::PLAIN, 5).is_err());
    }

    // See: #23 (5): the sql_mode decides where a string ends; an executable comment may
    // not hold what would decide it.
    // See: #23 (hostile review, round 4): a name may start with digits (`9db.s9` is a
    // database and a sequence to the server, not a number).
    #[test]
    fn names_that_start_with_digits() {
        use Token::{Number, Punct, Word};
        let t = tokens(
            "9db.s9 1e5 0x1F 12.5 1a 0b2 db.1234 1.SELECT 1e.s 1e+5 1e1SELECT (.5SELECT) 1.5e2x",
            Lexing::PLAIN,
            99,
        )
        .unwrap();
        assert_eq!(
            t,
            [
                Word("9db".into()),
                Punct('.'),
                Word("s9".into()),
                Number("1e5".into()),
                Number("0x1F".into()),
                Number("12.5".into()),
                Word("1a".into()),
                Word("0b2".into()),
                Word("db".into()),
                Punct('.'),
                Number("1234".into()),
                Number("1.".into()),
                Word("SELECT".into()),
                Word("1e".into()),
                Punct('.'),
                Word("s".into()),
                Number("1e+5".into()),
                Number("1e1".into()),
                Word("SELECT".into()),
                Punct('('),
                Number(".5".into()),
                Word("SELECT".into()),
                Punct(')'),
                Number("1.5e2".into()),
                Word("x".into()),
            ]
        );
    }

    #[test]
    fn strings_end_where_the_mode_says() {
        let nbe = Lexing::of_mode("STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES");
        let t = tokens(r"SELECT 'C:\' ; DROP", nbe, 10).unwrap();
        assert_eq!(t[1], Token::Str("C:\\".into()));
        assert_eq!(t[2], Token::Punct(';'));
        assert!(tokens(r"SELECT 'C:\' ; DROP", Lexing::PLAIN, 10).is_err());
        let ansi = Lexing::of_mode("ANSI");
        assert!(ansi.ansi_quotes && Lexing::of_mode("ORACLE").ansi_quotes);
        assert_eq!(
            tokens(r#"CREATE PROCEDURE "p"()"#, ansi, 3).unwrap()[2],
            Token::Quoted("p".into())
        );
        assert!(tokens(
            "SELECT 1 /*!99999 ' */ ) # /*!99999 ' */",
            Lexing::PLAIN,
            20
        )
        .is_err());
        assert!(tokens("SELECT 1 /*!100301 COMPRESSED */ x", Lexing::PLAIN, 20).is_ok());
        // `--` before any control character is a comment, as the server reads it.
        assert_eq!(
            tokens("id --\x0b LIMIT 3", Lexing::PLAIN, 10)
                .unwrap()
                .len(),
            1
        );
    }

    // See: #24 (2, 3): qualifiers naming the database are taken off, nothing else.
    #[test]
    fn qualifiers_of_a_database_are_taken_off() {
        use Qualifiers::{Everywhere, Head};
        let u = |s: &str, w| unqualify(s, "shop", Lexing::PLAIN, w, None);
        // The head only: the body stays as it was written.
        assert_eq!(
            u("CREATE TRIGGER `shop`.`tr` BEFORE INSERT ON shop.t FOR EACH ROW SET NEW.x = shop.f(1)", Head).unwrap(),
            "CREATE TRIGGER `tr` BEFORE INSERT ON t FOR EACH ROW SET NEW.x = shop.f(1)"
        );
        // Everywhere it can only be the database.
        assert_eq!(
            u(
                "select `shop`.`t`.`id` AS `id` from `shop`.`t` join other.u on u.shop = 'shop.t'",
                Everywhere
            )
            .unwrap(),
            "select `t`.`id` AS `id` from `t` join other.u on u.shop = 'shop.t'"
        );
        assert_eq!(
            u("DEFAULT nextval(`shop`.`s`)", Everywhere).unwrap(),
            "DEFAULT nextval(`s`)"
        );
        assert_eq!(
            u(
                "BEGIN CALL shop.p(); INSERT INTO shop.t SELECT shop.f(x) FROM shop.u; END",
                Everywhere
            )
            .unwrap(),
            "BEGIN CALL p(); INSERT INTO t SELECT f(x) FROM u; END"
        );
        assert_eq!(
            u("SELECT shop FROM x /* shop.t */", Everywhere).unwrap(),
            "SELECT shop FROM x /* shop.t */"
        );
        // Made another database's: a call stays a call of that database's function
        // (unqualified, `lower(` would call the built-in).
        let to = |s: &str, w| unqualify(s, "shop", Lexing::PLAIN, w, Some("sh2")).unwrap();
        assert_eq!(
            to("RETURN (SELECT shop.lower(c) FROM shop.t)", Everywhere),
            "RETURN (SELECT `sh2`.lower(c) FROM `sh2`.t)"
        );
        assert_eq!(
            to(
                "select `shop`.`lower`(`t`.`c`) AS `x`, `shop`.`c` from `shop`",
                Qualifiers::Calls
            ),
            "select `sh2`.`lower`(`t`.`c`) AS `x`, `shop`.`c` from `shop`"
        );
        // See: #24 (hostile review): `shop.id` in a SELECT list or a condition may be a
        // column of a table called shop: not rewritten, but named.
        let e = u(
            "SELECT COUNT(*) FROM shop JOIN items ON items.order_id = shop.id",
            Everywhere,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("shop.id could name the database shop"),
            "{e}"
        );
    }
}
