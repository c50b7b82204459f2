//! What a restore may run of a backup's `schema.sql`: the statements that create the
//! tables and objects its manifest lists, in the target database, and the few session
//! settings qexport writes around them, each in the form SHOW CREATE gives it. Every
//! statement is read whole (by [`crate::sql::tokens`], under the sql_mode the script set
//! before it) and judged before the first one runs; anything else (a `DROP`, an `INSERT`,
//! a name in another database, an object the manifest does not list, an executable
//! comment, a query inside a CREATE TABLE) is refused by its first line, and nothing
//! changes. The manifest and the schema must also agree: each table and object the
//! manifest lists is created exactly once, and what a statement refers to (a trigger's
//! table, a default's sequence) is the backup's own. [`super::send`] then sends each one
//! prepared.
//!
//! This keeps a damaged or tampered folder from running SQL of its own; what the objects
//! themselves do later (a trigger's body, an event's schedule) is what the backup holds,
//! as with any dump.

use anyhow::bail;

use crate::manifest::{Manifest, ObjectKind};
use crate::sql::{Lexing, Token};

/// What one statement of `schema.sql` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stmt {
    /// `SET [SESSION] name = value`, a setting qexport writes (sql_mode, foreign-key
    /// checks, time zone, character sets), with a plain value.
    Setting,
    /// `CREATE TABLE name ...`.
    Table(String),
    /// `CREATE ... VIEW|FUNCTION|PROCEDURE|TRIGGER|EVENT|SEQUENCE name ...`.
    Object(ObjectKind, String),
    /// `DO SETVAL(sequence, ...)`: a sequence's state.
    SequenceState(String),
}

/// The session settings a backup's schema may make.
const SETTINGS: &[&str] = &[
    "sql_mode",
    "foreign_key_checks",
    "time_zone",
    "character_set_client",
    "character_set_results",
    "collation_connection",
    "names",
];

/// The client character sets a restore takes: schema.sql is UTF-8, read as such (in GBK
/// or Big5 a `\` can be half of a letter; in latin1 the names qtools itself sends, such
/// as those of the drops that undo a failed restore, would be other names).
const CLIENT_CHARSETS: &[&str] = &["utf8mb4", "utf8mb3", "utf8"];

/// Judge every statement of a backup's schema (in order, each with the lexing it is read
/// under), before any runs: what comes before the data and what comes after it. Triggers
/// and events stand after the data only (a trigger created before would fire on every
/// restored row), and tables and sequences before it only.
pub(super) fn judge(
    before: &[(&str, Lexing)],
    after: &[(&str, Lexing)],
    manifest: &Manifest,
    target: &str,
) -> anyhow::Result<Vec<Stmt>> {
    let refused = |s: &str, why: String| {
        anyhow::anyhow!(
            "schema.sql: {why}: `{}`; a restore runs only what creates the backup's tables \
             and objects, triggers and events after the data (nothing was changed)",
            super::restore::first_line(s)
        )
    };
    let mut judged = Vec::with_capacity(before.len() + after.len());
    for (part, statements) in [(false, before), (true, after)] {
        for (s, lexing) in statements {
            let stmt = classify(s, *lexing).map_err(|why| refused(s, why))?;
            for need in needs(s, *lexing).map_err(|why| refused(s, why))? {
                let listed = match &need {
                    Need::Table(t) => manifest.tables.iter().any(|e| e.name == *t),
                    Need::Sequence(q) => manifest
                        .objects
                        .iter()
                        .any(|e| e.kind == ObjectKind::Sequence && e.name == *q),
                    Need::CallsInto(db) => db == target,
                };
                if !listed {
                    let what = match need {
                        Need::Table(t) => {
                            format!("a trigger on {t}, a table the backup does not hold")
                        }
                        Need::Sequence(q) => format!(
                            "a default drawing from {q}, a sequence the backup does not hold"
                        ),
                        Need::CallsInto(db) => format!(
                            "a view that calls a function of {db}, not of the database it is made in"
                        ),
                    };
                    return Err(refused(s, what));
                }
            }
            let misplaced = match &stmt {
                Stmt::Object(k, _) => k.after_data() != part,
                Stmt::Table(_) | Stmt::SequenceState(_) => part,
                Stmt::Setting => false,
            };
            if misplaced {
                let place = if part { "after" } else { "before" };
                return Err(refused(s, format!("out of its place ({place} the data)")));
            }
            judged.push(stmt);
        }
    }
    agree(&judged, manifest)?;
    Ok(judged)
}

/// What one statement does, or why a restore may not run it. Only the forms qexport
/// writes (as the server's SHOW CREATE gives them) are taken, word for word where it
/// matters: a statement is judged by what the server will read in it, so no executable
/// comment is taken anywhere (the server reads its content or not, by its version).
pub(super) fn classify(stmt: &str, lexing: Lexing) -> Result<Stmt, String> {
    // No control character but tabs and line ends (the server's reading of a NUL or a
    // lone control byte is no business of a backup's).
    if stmt
        .bytes()
        .any(|b| b.is_ascii_control() && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Err("a control character in the statement".into());
    }
    let spans = crate::sql::spanned(stmt, lexing, usize::MAX).map_err(|e| e.to_string())?;
    let toks: Vec<Token> = spans.iter().map(|(t, _)| t.clone()).collect();
    if toks.contains(&Token::Versioned) {
        return Err("an executable comment (/*! ... */), which the server reads as code or not by its version".into());
    }
    match toks.first() {
        Some(w) if w.is("SET") => setting(&toks),
        Some(w) if w.is("DO") => sequence_state(&toks).map(Stmt::SequenceState),
        Some(w) if w.is("CREATE") => create(&spans).map(|(stmt, _)| stmt),
        _ => Err("not a statement a backup holds".into()),
    }
}

/// What a statement that [`classify`] took needs of the backup besides itself: the table
/// a trigger is on, the sequences a table's defaults draw from. Each must be one the
/// backup creates (a trigger on a table of the target's own would fire on its rows; a
/// default drawing from a sequence not the backup's would move it as the data loads).
pub(super) fn needs(stmt: &str, lexing: Lexing) -> Result<Vec<Need>, String> {
    let spans = crate::sql::spanned(stmt, lexing, usize::MAX).map_err(|e| e.to_string())?;
    if !spans.first().is_some_and(|(t, _)| t.is("CREATE")) {
        return Ok(Vec::new());
    }
    create(&spans).map(|(_, needs)| needs)
}

/// What a statement of the backup refers to that the backup must create too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Need {
    Table(String),
    Sequence(String),
    /// A view calls a function of this database by its qualified name (as SHOW CREATE
    /// VIEW writes a function named like a built-in): it must be the target, whose
    /// functions are stand-ins while views are made.
    CallsInto(String),
}

/// The name at `i`, which no `.` may follow (it would be a database's name).
fn unqualified(toks: &[Token], i: usize) -> Result<String, String> {
    let n = toks
        .get(i)
        .and_then(Token::name)
        .ok_or_else(|| "a name was expected".to_owned())?;
    if toks.get(i + 1) == Some(&Token::Punct('.')) {
        return Err(format!("{n}. names another database"));
    }
    // A name the server takes (and so can drop again): not empty, no trailing space, 64
    // characters at most.
    if n.is_empty() || n.ends_with(' ') || n.chars().count() > 64 {
        return Err(format!("{n:?} is no name the server takes"));
    }
    Ok(n.to_owned())
}

/// `DEFINER = user@host`, `DEFINER = role` or `DEFINER = CURRENT_USER[()]` at `i`:
/// where it ends. The account's parts stand against the `@`, as SHOW CREATE writes them:
/// after `user@ ` (a space) the server reads an empty host and takes what follows as the
/// next word of the statement.
fn definer_end(spans: &[(Token, std::ops::Range<usize>)], i: usize) -> Result<usize, String> {
    let bad = || "a DEFINER other than user@host, a role or CURRENT_USER".to_owned();
    let tok = |j: usize| spans.get(j).map(|(t, _)| t);
    if tok(i + 1) != Some(&Token::Punct('=')) {
        return Err(bad());
    }
    let account =
        |t: Option<&Token>| matches!(t, Some(Token::Word(_) | Token::Quoted(_) | Token::Str(_)));
    let joined = |a: usize, b: usize| matches!((spans.get(a), spans.get(b)), (Some((_, x)), Some((_, y))) if x.end == y.start);
    match (tok(i + 2), tok(i + 3), tok(i + 4)) {
        (Some(u), Some(Token::Punct('(')), Some(Token::Punct(')'))) if u.is("CURRENT_USER") => {
            Ok(i + 5)
        }
        (Some(u), _, _) if u.is("CURRENT_USER") => Ok(i + 3),
        (u, Some(Token::Punct('@')), h)
            if account(u) && account(h) && joined(i + 2, i + 3) && joined(i + 3, i + 4) =>
        {
            Ok(i + 5)
        }
        (_, Some(Token::Punct('@')), _) => Err(bad()),
        (u, _, _) if account(u) => Ok(i + 3),
        _ => Err(bad()),
    }
}

/// A CREATE as SHOW CREATE writes it, and what it needs of the backup.
fn create(spans: &[(Token, std::ops::Range<usize>)]) -> Result<(Stmt, Vec<Need>), String> {
    let toks: Vec<Token> = spans.iter().map(|(t, _)| t.clone()).collect();
    let toks = toks.as_slice();
    let at = |i: usize| toks.get(i);
    let word = |i: usize, w: &str| at(i).is_some_and(|t| t.is(w));
    let mut i = 1;
    // What SHOW CREATE writes between CREATE and the kind, in its order: no OR REPLACE,
    // IF NOT EXISTS or TEMPORARY (they would replace, keep or hide another object).
    if word(i, "ALGORITHM") && at(i + 1) == Some(&Token::Punct('=')) {
        i += 3;
    }
    if word(i, "DEFINER") {
        i = definer_end(spans, i)?;
    }
    if word(i, "SQL") && word(i + 1, "SECURITY") {
        i += 3;
    }
    if word(i, "AGGREGATE") {
        i += 1;
    }
    let kind = at(i).ok_or("CREATE of nothing")?;
    let n = i + 1;
    if kind.is("TABLE") {
        let name = unqualified(toks, n)?;
        let drawn = table_definition(&toks[n + 1..])?;
        return Ok((
            Stmt::Table(name),
            drawn.into_iter().map(Need::Sequence).collect(),
        ));
    }
    let kind = [
        ObjectKind::View,
        ObjectKind::Function,
        ObjectKind::Procedure,
        ObjectKind::Trigger,
        ObjectKind::Event,
        ObjectKind::Sequence,
    ]
    .into_iter()
    .find(|k| kind.is(k.word()))
    .ok_or("a CREATE of something a backup does not hold (or with OR REPLACE, IF NOT EXISTS)")?;
    if word(n, "IF") && word(n + 1, "NOT") {
        return Err("a CREATE ... IF NOT EXISTS, which would keep another object".into());
    }
    let name = unqualified(toks, n)?;
    let needs = object_body(kind, toks, n)?;
    Ok((Stmt::Object(kind, name), needs))
}

/// `DO SETVAL(sequence, next, 0, cycles)` as qexport writes it: one call, its arguments
/// integers; the sequence's name.
fn sequence_state(toks: &[Token]) -> Result<String, String> {
    let refused = || "not a sequence's state (DO SETVAL(name, next, 0, cycles))".to_owned();
    let (Some(Token::Word(_)), Some(setval), Some(Token::Punct('(')), Some(name)) = (
        toks.first(),
        toks.get(1),
        toks.get(2),
        toks.get(3).and_then(Token::name),
    ) else {
        return Err(refused());
    };
    if !setval.is("SETVAL") {
        return Err(refused());
    }
    let mut i = 4;
    for _ in 0..3 {
        if toks.get(i) != Some(&Token::Punct(',')) {
            return Err(refused());
        }
        i += 1;
        if toks.get(i) == Some(&Token::Punct('-')) {
            i += 1;
        }
        match toks.get(i) {
            Some(Token::Number(n)) if n.bytes().all(|b| b.is_ascii_digit()) => i += 1,
            _ => return Err(refused()),
        }
    }
    if toks.get(i) != Some(&Token::Punct(')')) || toks.len() != i + 1 {
        return Err(refused());
    }
    Ok(name.to_owned())
}

/// What follows an object's name, by its kind, and what it needs of the backup.
fn object_body(kind: ObjectKind, toks: &[Token], n: usize) -> Result<Vec<Need>, String> {
    let at = |i: usize| toks.get(i);
    let word = |i: usize, w: &str| at(i).is_some_and(|t| t.is(w));
    let mut needs = Vec::new();
    match kind {
        // A stored routine has its parameters' parentheses; `CREATE FUNCTION f RETURNS
        // STRING SONAME 'lib.so'` loads a library into the whole server.
        ObjectKind::Function | ObjectKind::Procedure if at(n + 1) != Some(&Token::Punct('(')) => {
            return Err("a function from a shared library (SONAME), not a stored routine".into());
        }
        // name BEFORE|AFTER INSERT|UPDATE|DELETE ON table FOR EACH ROW, and no FOLLOWS
        // or PRECEDES (an order among triggers the backup may not hold).
        ObjectKind::Trigger => {
            let timing = word(n + 1, "BEFORE") || word(n + 1, "AFTER");
            let event = ["INSERT", "UPDATE", "DELETE"]
                .iter()
                .any(|e| word(n + 2, e));
            let row = word(n + 5, "FOR") && word(n + 6, "EACH") && word(n + 7, "ROW");
            if !(timing && event && word(n + 3, "ON") && row) {
                return Err("a trigger not as SHOW CREATE TRIGGER writes it".into());
            }
            if word(n + 8, "FOLLOWS") || word(n + 8, "PRECEDES") {
                return Err("a trigger ordered after another (FOLLOWS, PRECEDES)".into());
            }
            needs.push(Need::Table(unqualified(toks, n + 4)?));
        }
        ObjectKind::Event if !(word(n + 1, "ON") && word(n + 2, "SCHEDULE")) => {
            return Err("an event not as SHOW CREATE EVENT writes it".into());
        }
        // Its schedule as SHOW CREATE EVENT writes it: times and numbers, no expression
        // (the server evaluates one as the event is made: LOAD_FILE would run).
        ObjectKind::Event => {
            let body = (n + 3..toks.len())
                .find(|&j| word(j, "DO"))
                .unwrap_or(toks.len());
            if toks[n + 3..body]
                .iter()
                .any(|t| matches!(t, Token::Punct('(' | '@')))
            {
                return Err(
                    "an event whose schedule is an expression, not times and numbers".into(),
                );
            }
        }
        // Making a view evaluates some of its expressions: it calls no built-in that
        // acts beyond it, nor a function of another database (the backup's own are
        // stand-ins while views are made: see super::stubs).
        ObjectKind::View => {
            for (j, t) in toks.iter().enumerate().skip(n + 1) {
                let call = toks.get(j + 1) == Some(&Token::Punct('('));
                if call && calls_side_effect(t) {
                    return Err(format!("a view that calls {t:?}, which acts beyond it"));
                }
                // `db.f(`: a function of the target's own (a stand-in while views are
                // made), or refused (see judge).
                let qualified_call = *t == Token::Punct('.')
                    && toks.get(j + 2) == Some(&Token::Punct('('))
                    && toks.get(j + 1).is_some_and(|f| f.name().is_some());
                if let (true, Some(db)) = (
                    qualified_call,
                    j.checked_sub(1).and_then(|p| toks[p].name()),
                ) {
                    needs.push(Need::CallsInto(db.to_owned()));
                }
            }
        }
        // `start with 1 minvalue 1 ... nocycle ENGINE=InnoDB [COMMENT='...']`: words and
        // numbers only (no files elsewhere, no connection, no name of another table).
        ObjectKind::Sequence => {
            for (j, t) in toks.iter().enumerate().skip(n + 1) {
                let comment = |k: usize| k > n && toks[k].is("COMMENT");
                let ok = match t {
                    Token::Word(w) => !["DIRECTORY", "CONNECTION", "UNION"]
                        .iter()
                        .any(|x| w.eq_ignore_ascii_case(x)),
                    Token::Number(_) | Token::Punct('=' | '-') => true,
                    Token::Str(_) => {
                        comment(j - 1) || (toks[j - 1] == Token::Punct('=') && comment(j - 2))
                    }
                    _ => false,
                };
                if !ok {
                    return Err("a sequence not as SHOW CREATE SEQUENCE writes it".into());
                }
            }
        }
        _ => {}
    }
    Ok(needs)
}

/// `SET [SESSION] name = value`: one of the settings a backup makes, with a plain value.
fn setting(toks: &[Token]) -> Result<Stmt, String> {
    let at = |i: usize| toks.get(i);
    let mut i = 1;
    if at(i).is_some_and(|w| w.is("SESSION")) {
        i += 1;
    }
    // A plain word, as qexport writes it (`sql_mode` in quotes is the same variable to
    // the server, and would escape the reading of the modes a script sets).
    let var = match at(i) {
        Some(Token::Word(w)) => w.as_str(),
        _ => "",
    };
    let plain = |tok: Option<&Token>| {
        matches!(tok, Some(Token::Str(_) | Token::Number(_) | Token::Word(_)))
    };
    let names = var.eq_ignore_ascii_case("names");
    let value = if names { i + 1 } else { i + 2 };
    let known = SETTINGS.iter().any(|s| s.eq_ignore_ascii_case(var));
    if !(known
        && (names || at(i + 1) == Some(&Token::Punct('=')))
        && plain(at(value))
        && toks.len() == value + 1)
    {
        return Err("a setting a backup does not make".into());
    }
    // A value as qexport writes one: a word, a number, or a string of names, offsets and
    // list commas (no quote or backslash the server could read otherwise).
    let simple = |v: &str| {
        v.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b',' | b':' | b'+' | b'-' | b'/')
        })
    };
    let value_text = match at(value) {
        Some(Token::Str(v) | Token::Word(v) | Token::Number(v)) => v.as_str(),
        _ => "",
    };
    if !simple(value_text) {
        return Err("a setting's value that is not a plain word, number or list of names".into());
    }
    // What decides how the server reads the statements after it is read here
    // too: a sql_mode only as a string of names (not a number, not DEFAULT, which
    // is the server's own), a client character set only one in which a byte
    // below 128 is always that ASCII character (in GBK or Big5 a `\` can be the
    // second byte of a letter, and the quote after it end a string).
    if var.eq_ignore_ascii_case("sql_mode") {
        let Some(Token::Str(mode)) = at(value) else {
            return Err("a sql_mode that is not a string of mode names".into());
        };
        // MSSQL makes `[a'b]` a name, which this reading does not follow.
        if mode
            .split(',')
            .any(|m| m.trim().eq_ignore_ascii_case("MSSQL"))
        {
            return Err("a sql_mode this restore does not read SQL in (MSSQL)".into());
        }
    }
    let client = names || var.eq_ignore_ascii_case("character_set_client");
    let charset = at(value).and_then(|t| match t {
        Token::Str(v) | Token::Word(v) => Some(v.as_str()),
        _ => None,
    });
    if client && !charset.is_some_and(|c| CLIENT_CHARSETS.iter().any(|a| a.eq_ignore_ascii_case(c)))
    {
        return Err("a client character set a restore does not read SQL in".into());
    }
    Ok(Stmt::Setting)
}

/// Built-in functions that act or read beyond a statement's own table: never in a
/// backup's definitions (the server evaluates some where a definition has an expression:
/// a partition's INTERVAL, an event's schedule).
const SIDE_EFFECTS: &[&str] = &[
    "LOAD_FILE",
    "GET_LOCK",
    "RELEASE_LOCK",
    "RELEASE_ALL_LOCKS",
    "IS_FREE_LOCK",
    "IS_USED_LOCK",
    "SLEEP",
    "BENCHMARK",
    "MASTER_POS_WAIT",
    "MASTER_GTID_WAIT",
    "SOURCE_POS_WAIT",
];

/// Whether `t` names one of [`SIDE_EFFECTS`], quoted or not (`` `LOAD_FILE`( `` calls the
/// built-in too).
fn calls_side_effect(t: &Token) -> bool {
    t.name()
        .is_some_and(|n| SIDE_EFFECTS.iter().any(|w| n.eq_ignore_ascii_case(w)))
}

/// What follows a table's name in a `CREATE TABLE` of a backup: its definition, as SHOW
/// CREATE TABLE writes it, referring to no other database but through a foreign key. Not
/// a copy of another table (`LIKE`, `SELECT`), not a MERGE table over another database's
/// tables, not a column default that draws from another database's sequence.
fn table_definition(toks: &[Token]) -> Result<Vec<String>, String> {
    if toks.first() != Some(&Token::Punct('(')) {
        return Err("not a table definition: a CREATE TABLE that lists its own columns (no IF NOT EXISTS, LIKE or AS SELECT)".into());
    }
    let mut depth = 0usize;
    let mut drawn = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let word = |j: usize, w: &str| toks.get(j).is_some_and(|t| t.is(w));
        match t {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth = depth.saturating_sub(1),
            // A query runs (its functions too) as the table is made: no SELECT anywhere
            // (no column default, CHECK or generated column of a definition holds one;
            // a name spelled so is quoted), no VALUES but a partition's.
            t if t.is("SELECT")
                || (depth == 0 && ["LIKE", "AS", "TABLE"].iter().any(|w| t.is(w)))
                || (t.is("VALUES") && !(word(i + 1, "LESS") || word(i + 1, "IN"))) =>
            {
                return Err("a table made from a query or another table, not a definition".into());
            }
            // SHOW CREATE writes an interval as a number (`PARTITION BY SYSTEM_TIME
            // INTERVAL 1 DAY`): an expression there runs as the table is made.
            t if depth == 0
                && t.is("INTERVAL")
                && !(matches!(toks.get(i + 1), Some(Token::Number(_)))
                    && matches!(toks.get(i + 2), Some(Token::Word(_)))) =>
            {
                return Err(
                    "an INTERVAL that is not a number (an expression runs as the table is made)"
                        .into(),
                );
            }
            // Functions that act or read beyond the table, wherever the server would take
            // them.
            t if calls_side_effect(t) && toks.get(i + 1) == Some(&Token::Punct('(')) => {
                return Err(format!(
                    "{t:?} in a table definition (it acts or reads beyond the table)"
                ));
            }
            // The files of a table stay in the server's datadir.
            t if t.is("DIRECTORY") => {
                return Err(
                    "a table stored outside the server's datadir (DATA or INDEX DIRECTORY)".into(),
                );
            }
            // A default that draws from a sequence: NEXTVAL(s), LASTVAL(s), SETVAL(s, ..),
            // NEXT VALUE FOR s, PREVIOUS VALUE FOR s.
            t if ["NEXTVAL", "LASTVAL", "SETVAL"].iter().any(|w| t.is(w))
                && toks.get(i + 1) == Some(&Token::Punct('(')) =>
            {
                drawn.extend(toks.get(i + 2).and_then(Token::name).map(str::to_owned));
            }
            t if (t.is("NEXT") || t.is("PREVIOUS"))
                && word(i + 1, "VALUE")
                && word(i + 2, "FOR") =>
            {
                drawn.extend(toks.get(i + 3).and_then(Token::name).map(str::to_owned));
            }
            // `a.b`: a name in another database (`db.5` too: after a dot, the server
            // reads digits as a name).
            Token::Punct('.') => {
                let db = i.checked_sub(1).and_then(|j| toks[j].name());
                let object = toks.get(i + 1).and_then(|t| match t {
                    Token::Number(n) => Some(n.as_str()),
                    t => t.name(),
                });
                let (Some(db), Some(object)) = (db, object) else {
                    continue;
                };
                let by_key = i >= 2 && toks[i - 2].is("REFERENCES");
                if !by_key {
                    return Err(format!(
                        "{db}.{object} names another database (a restored table refers to \
                         no other database but through a foreign key)"
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(drawn)
}

/// The `DEFINER` clause of a CREATE statement.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct DefinerClause {
    /// User and host (`None` for a role); `None` for `CURRENT_USER`.
    pub account: Option<(String, Option<String>)>,
    /// Where it stands, from `DEFINER` to the end of the account.
    pub span: std::ops::Range<usize>,
}

/// The `DEFINER = ...` clause of a CREATE statement, if it has one.
pub(super) fn definer(stmt: &str, lexing: Lexing) -> Option<DefinerClause> {
    let toks = crate::sql::spanned(stmt, lexing, 24).ok()?;
    let at = (0..toks.len()).find(|&i| {
        toks[i].0.is("DEFINER")
            && toks
                .get(i + 1)
                .is_some_and(|(t, _)| *t == Token::Punct('='))
    })?;
    let user = &toks.get(at + 2)?.0;
    if user.is("CURRENT_USER") {
        let mut end = toks[at + 2].1.end;
        if toks
            .get(at + 3)
            .is_some_and(|(t, _)| *t == Token::Punct('('))
        {
            end = toks.get(at + 4)?.1.end;
        }
        return Some(DefinerClause {
            account: None,
            span: toks[at].1.start..end,
        });
    }
    let text = |t: &Token| match t {
        Token::Word(w) | Token::Quoted(w) | Token::Str(w) => Some(w.clone()),
        _ => None,
    };
    let user = text(user)?;
    // `DEFINER = role`: a role has no host.
    if toks.get(at + 3).map(|(t, _)| t) != Some(&Token::Punct('@')) {
        return Some(DefinerClause {
            account: Some((user, None)),
            span: toks[at].1.start..toks[at + 2].1.end,
        });
    }
    let host = text(&toks.get(at + 4)?.0)?;
    Some(DefinerClause {
        account: Some((user, Some(host))),
        span: toks[at].1.start..toks[at + 4].1.end,
    })
}

/// `stmt` with its `DEFINER` made `CURRENT_USER` (`--definer current-user`).
pub(super) fn definer_current_user(stmt: &str, lexing: Lexing) -> String {
    match definer(stmt, lexing) {
        Some(d) => format!(
            "{}DEFINER=CURRENT_USER{}",
            &stmt[..d.span.start],
            &stmt[d.span.end..]
        ),
        None => stmt.to_owned(),
    }
}

/// Each table and object of the manifest is created once, and nothing else is.
fn agree(judged: &[Stmt], m: &Manifest) -> anyhow::Result<()> {
    let mut tables: Vec<&str> = Vec::new();
    let mut objects: Vec<(ObjectKind, &str)> = Vec::new();
    let mut states: Vec<&str> = Vec::new();
    for s in judged {
        match s {
            Stmt::Table(t) => {
                if !m.tables.iter().any(|e| e.name == *t) {
                    bail!("schema.sql creates the table {t}, which the manifest does not list: the backup is damaged (nothing was changed)");
                }
                if tables.contains(&t.as_str()) {
                    bail!("schema.sql creates the table {t} twice: the backup is damaged (nothing was changed)");
                }
                tables.push(t);
            }
            Stmt::Object(k, o) => {
                if !m.objects.iter().any(|e| e.kind == *k && e.name == *o) {
                    bail!(
                        "schema.sql creates the {} {o}, which the manifest does not list: the backup is damaged (nothing was changed)",
                        k.word().to_lowercase()
                    );
                }
                objects.push((*k, o));
            }
            Stmt::SequenceState(q) => {
                if !m
                    .objects
                    .iter()
                    .any(|e| e.kind == ObjectKind::Sequence && e.name == *q)
                {
                    bail!("schema.sql sets the state of {q}, which the manifest does not list as a sequence: the backup is damaged (nothing was changed)");
                }
                states.push(q);
            }
            Stmt::Setting => {}
        }
    }
    if let Some(t) = m.tables.iter().find(|e| !tables.contains(&e.name.as_str())) {
        bail!(
            "the manifest lists the table {}, which schema.sql does not create: the backup is damaged (nothing was changed)",
            t.name
        );
    }
    if let Some(o) = m
        .objects
        .iter()
        .find(|e| !objects.contains(&(e.kind, e.name.as_str())))
    {
        bail!(
            "the manifest lists the {} {}, which schema.sql does not create: the backup is damaged (nothing was changed)",
            o.kind.word().to_lowercase(),
            o.name
        );
    }
    // Each sequence where it was (qexport writes the state of every one): without it, a
    // restored sequence would start again from its first value, below the restored rows.
    if let Some(q) = m
        .objects
        .iter()
        .find(|e| e.kind == ObjectKind::Sequence && !states.contains(&e.name.as_str()))
    {
        bail!(
            "schema.sql does not set the state of the sequence {}: the backup is damaged (nothing was changed)",
            q.name
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "script_tests.rs"]
mod tests;
