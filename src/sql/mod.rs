//! SQL text: identifier quoting and `db.table` names here; how the server reads SQL text
//! (its lexer: strings, quoted names, comments, under a session's `sql_mode`) in [`lex`];
//! the statements of SQL text the user gives (`-e`, `--where`, `--order-by`, `--schema`,
//! a backup's `schema.sql`) in [`script`].

mod lex;
mod script;

pub use lex::{spanned, tokens, unqualify, Lexing, Qualifiers, Token};
pub use script::{check_fragment, has_semicolon, script, single_statement};

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

#[cfg(test)]
mod tests {
    use super::*;

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
