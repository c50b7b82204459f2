//! The privileges the current user holds on a database, as the server applies them: read
//! from `SHOW GRANTS` (which, unlike information_schema on MariaDB, also gives the grants
//! of the enabled role), then resolved as the server resolves them.
//!
//! Of one grantee's database grants, the server applies only the first that matches the
//! database, in its order (`ON ty.*` wins over `` ON `t_`.* ``, whatever each holds): the
//! database's own name, then patterns by the place of their first wildcard (see
//! [`rank`]). Of grants of the same rank qtools takes what they all hold, so that a doubt
//! counts as a privilege missing, never as one held. The user's and its enabled role's
//! are added up, with the global ones.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::db_error;
use crate::sql::{tokens, Lexing, Token};

/// A privilege, as `SHOW GRANTS` names it (see: #26: decided on as a type, not a string).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    Select,
    Insert,
    Update,
    Delete,
    Create,
    Drop,
    References,
    Index,
    Alter,
    CreateTemporaryTables,
    LockTables,
    Execute,
    CreateView,
    ShowView,
    CreateRoutine,
    AlterRoutine,
    Event,
    Trigger,
    DeleteHistory,
    /// MariaDB 11.3's privilege to read routines' bodies (`SHOW CREATE ROUTINE`).
    ShowCreateRoutine,
    /// MySQL 8's `SHOW_ROUTINE`, a global privilege of the same use.
    ShowRoutine,
    /// A privilege qtools never decides on (SUPER, PROCESS, ...), by its name.
    Other(String),
}

/// Every privilege a database grant can hold (`ALL PRIVILEGES` holds them all), by name.
const NAMED: [(&str, Privilege); 21] = [
    ("SELECT", Privilege::Select),
    ("INSERT", Privilege::Insert),
    ("UPDATE", Privilege::Update),
    ("DELETE", Privilege::Delete),
    ("CREATE", Privilege::Create),
    ("DROP", Privilege::Drop),
    ("REFERENCES", Privilege::References),
    ("INDEX", Privilege::Index),
    ("ALTER", Privilege::Alter),
    ("CREATE TEMPORARY TABLES", Privilege::CreateTemporaryTables),
    ("LOCK TABLES", Privilege::LockTables),
    ("EXECUTE", Privilege::Execute),
    ("CREATE VIEW", Privilege::CreateView),
    ("SHOW VIEW", Privilege::ShowView),
    ("CREATE ROUTINE", Privilege::CreateRoutine),
    ("ALTER ROUTINE", Privilege::AlterRoutine),
    ("EVENT", Privilege::Event),
    ("TRIGGER", Privilege::Trigger),
    ("DELETE HISTORY", Privilege::DeleteHistory),
    ("SHOW CREATE ROUTINE", Privilege::ShowCreateRoutine),
    ("SHOW_ROUTINE", Privilege::ShowRoutine),
];

impl Privilege {
    /// The privilege `SHOW GRANTS` names so (upper case, words joined by one space).
    fn named(name: &str) -> Privilege {
        NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| Privilege::Other(name.to_owned()), |(_, p)| p.clone())
    }

    /// Its name, as GRANT takes it.
    pub fn name(&self) -> &str {
        match self {
            Privilege::Other(n) => n,
            known => NAMED
                .iter()
                .find(|(_, p)| p == known)
                .map_or("", |(n, _)| n),
        }
    }
}

impl std::fmt::Display for Privilege {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The privileges a user holds.
pub type Privileges = BTreeSet<Privilege>;

/// One `GRANT privileges ON target TO grantee` line.
#[derive(Debug, PartialEq, Eq)]
struct Grant {
    privileges: Privileges,
    /// `None`: global (`*.*`); `Some(pattern)`: a database (`db`.*).
    database: Option<String>,
    grantee: String,
}

/// The privileges the current user holds on every table of `db` (see the module doc).
pub fn database_privileges(conn: &mut Conn, db: &str) -> anyhow::Result<Privileges> {
    let lines: Vec<String> = conn
        .query("SHOW GRANTS")
        .map_err(db_error)
        .context("reading the user's privileges (SHOW GRANTS)")?;
    Ok(resolve(lines.iter().filter_map(|l| parse(l)), db))
}

fn resolve(grants: impl IntoIterator<Item = Grant>, db: &str) -> Privileges {
    let mut held = Privileges::new();
    // grantee -> pattern -> privileges
    let mut on_db: BTreeMap<String, BTreeMap<String, Privileges>> = BTreeMap::new();
    for g in grants {
        match g.database {
            None => held.extend(g.privileges),
            Some(p) if matches(db, &p) => {
                on_db
                    .entry(g.grantee)
                    .or_default()
                    .entry(p)
                    .or_default()
                    .extend(g.privileges);
            }
            Some(_) => {}
        }
    }
    for patterns in on_db.values() {
        // The server's order: the most specific first; grants it cannot tell apart, what
        // they all hold.
        let best = patterns
            .keys()
            .map(|p| rank(p, db))
            .max()
            .unwrap_or_default();
        let mut tied = patterns
            .iter()
            .filter(|(p, _)| rank(p, db) == best)
            .map(|(_, v)| v);
        let first = tied.next().cloned().unwrap_or_default();
        let applied = tied.fold(first, |acc, s| acc.intersection(s).cloned().collect());
        held.extend(applied);
    }
    held
}

/// A `GRANT ... ON *.*` or `ON db.*` line; `None` for any other (a role granted, a
/// table's or a routine's privileges, `SET DEFAULT ROLE`, a proxy).
fn parse(line: &str) -> Option<Grant> {
    let toks = tokens(line, Lexing::PLAIN, usize::MAX).ok()?;
    if !toks.first()?.is("GRANT") {
        return None;
    }
    let on = toks.iter().position(|t| t.is("ON"))?;
    let mut privileges = Privileges::new();
    for part in toks[1..on].split(|t| *t == Token::Punct(',')) {
        // A column privilege (`SELECT (a)`) says nothing of whole tables.
        if part.contains(&Token::Punct('(')) {
            continue;
        }
        let words: Vec<&str> = part
            .iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect();
        let name = words.join(" ").to_ascii_uppercase();
        match name.as_str() {
            // All a database grant can hold (SHOW_ROUTINE is global only, and MySQL's).
            "ALL" | "ALL PRIVILEGES" => privileges.extend(
                NAMED
                    .iter()
                    .filter(|(_, p)| *p != Privilege::ShowRoutine)
                    .map(|(_, p)| p.clone()),
            ),
            "USAGE" | "" => {}
            _ => {
                privileges.insert(Privilege::named(&name));
            }
        }
    }
    let rest = &toks[on + 1..];
    let to = rest.iter().position(|t| t.is("TO"))?;
    let (target, grantee) = (&rest[..to], &rest[to + 1..]);
    let database = match target {
        [Token::Punct('*'), Token::Punct('.'), Token::Punct('*')] => None,
        [d, Token::Punct('.'), Token::Punct('*')] => Some(d.name()?.to_owned()),
        _ => return None,
    };
    let grantee = grantee
        .iter()
        .take_while(|t| !t.is("WITH") && !t.is("IDENTIFIED"))
        .map(|t| match t {
            Token::Punct(c) => c.to_string(),
            t => t.name().unwrap_or_default().to_owned(),
        })
        .collect();
    Some(Grant {
        privileges,
        database,
        grantee,
    })
}

/// Where a grant of the database name `p` stands among those that match `db`, as the
/// server applies them: the database's own name first (as written, underscores and all:
/// seen so on MariaDB 10.11, though `_` is a wildcard); then patterns as the server sorts
/// them (`get_sort` in sql_acl.cc): by the place of the first wildcard (`%` or `_`; an
/// escaped `\_` is none), the later the more specific; `%` alone last. Grants of the same
/// rank stand in an order qtools cannot know.
fn rank(p: &str, db: &str) -> u32 {
    if p == db || p.replace("\\_", "_").replace("\\%", "%") == db {
        return 1000;
    }
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => i += 1,
            b'%' if b.len() == 1 => return 1,
            b'%' | b'_' => return u32::try_from(i + 2).unwrap_or(u32::MAX).min(127),
            _ => {}
        }
        i += 1;
    }
    128
}

/// Whether `db` matches a grant's database pattern (`%` any run, `_` one character, `\`
/// escapes the next), byte for byte, as the server compares names.
fn matches(db: &str, pattern: &str) -> bool {
    fn go(s: &[u8], p: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'%', rest @ ..] => (0..=s.len()).any(|i| go(&s[i..], rest)),
            [b'_', rest @ ..] => !s.is_empty() && go(&s[1..], rest),
            // An escaped character, or any other: itself.
            [b'\\', c, rest @ ..] | [c, rest @ ..] => s.first() == Some(c) && go(&s[1..], rest),
        }
    }
    go(db.as_bytes(), pattern.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #24 (hostile review): the most specific database grant is the one applied.
    #[test]
    fn grants_resolve_as_the_server_applies_them() {
        let held = |lines: &[&str], db: &str| {
            let set = resolve(lines.iter().filter_map(|l| parse(l)), db);
            let mut names: Vec<&str> = set.iter().map(Privilege::name).collect();
            names.sort_unstable();
            names.join(",")
        };
        let user = [
            "GRANT USAGE ON *.* TO `bkw3`@`%`",
            "GRANT SELECT, LOCK TABLES, SHOW VIEW ON `ty`.* TO `bkw3`@`%`",
            "GRANT EVENT, TRIGGER ON `t_`.* TO `bkw3`@`%`",
            "GRANT SELECT ON `mysql`.`proc` TO `bkw3`@`%`",
        ];
        assert_eq!(held(&user, "ty"), "LOCK TABLES,SELECT,SHOW VIEW");
        assert_eq!(held(&user, "tx"), "EVENT,TRIGGER");
        // Two patterns the server cannot tell apart: what both hold.
        let two = [
            "GRANT SELECT, EVENT ON `t%`.* TO `u`@`%`",
            "GRANT SELECT, TRIGGER ON `t_`.* TO `u`@`%`",
        ];
        assert_eq!(held(&two, "ty"), "SELECT");
        // A database's own name with underscores is a pattern too, to the server: one
        // whose first wildcard comes later wins.
        let named = [
            "GRANT SELECT, SHOW VIEW ON `qtobj_1`.* TO `u`@`%`",
            "GRANT EVENT, TRIGGER ON `qt%`.* TO `u`@`%`",
        ];
        assert_eq!(held(&named, "qtobj_1"), "SELECT,SHOW VIEW");
        // ... and its own name wins over any pattern (as the server does it).
        let escaped = [
            "GRANT SELECT ON `app_prod`.* TO `u`@`%`",
            "GRANT EVENT ON `app\\_%`.* TO `u`@`%`",
        ];
        assert_eq!(held(&escaped, "app_prod"), "SELECT");
        let patterns = [
            "GRANT SELECT ON `app%`.* TO `u`@`%`",
            "GRANT EVENT ON `ap%`.* TO `u`@`%`",
        ];
        assert_eq!(held(&patterns, "app_prod"), "SELECT");
        // A role's grants add up with the user's; ALL PRIVILEGES holds them all.
        let role = [
            "GRANT `rall` TO `bkr`@`%`",
            "GRANT USAGE ON *.* TO `bkr`@`%`",
            "GRANT ALL PRIVILEGES ON `ty`.* TO `rall`",
            "SET DEFAULT ROLE `rall` FOR `bkr`@`%`",
        ];
        let all = held(&role, "ty");
        assert!(
            all.contains("TRIGGER") && all.contains("SHOW VIEW"),
            "{all}"
        );
        assert_eq!(held(&role, "t_y"), "");
        // An escaped underscore is a character; a global grant holds everywhere.
        let esc = [
            "GRANT SELECT ON `t\\_y`.* TO `u`@`%`",
            "GRANT EVENT ON *.* TO `u`@`%` WITH GRANT OPTION",
        ];
        assert_eq!(held(&esc, "t_y"), "EVENT,SELECT");
        assert_eq!(held(&esc, "tay"), "EVENT");
        // Column privileges say nothing of whole tables.
        assert_eq!(
            held(&["GRANT SELECT (`a`), INSERT ON `ty`.* TO `u`@`%`"], "ty"),
            "INSERT"
        );
    }
}
