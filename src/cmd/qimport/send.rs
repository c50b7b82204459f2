//! How the statements of a restore (and a `--schema` file) are sent: each one prepared,
//! so that the server takes exactly one; an event disabled until every object stands.

use anyhow::bail;
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::conn::db_error;
use crate::dberror::{Code, ServerError};
use crate::sql::{Lexing, Token};

/// An event's CREATE made `DISABLE`d, or `None` when it is disabled already (`DISABLE`,
/// `DISABLE ON SLAVE`). Read by the grammar's places, not by words anywhere: `... ON
/// SCHEDULE ... [ON COMPLETION [NOT] PRESERVE] [status] [COMMENT 'text'] DO body`, so the
/// status is what stands just before the COMMENT or the DO (a word of the event's name,
/// or a `@disable` in its schedule, is not one).
pub(super) fn event_disabled(stmt: &str, lexing: Lexing) -> Option<String> {
    let toks = crate::sql::spanned(stmt, lexing, usize::MAX).ok()?;
    let word = |j: usize, w: &str| {
        toks.get(j).is_some_and(|(t, _)| t.is(w))
            && !(j > 0 && matches!(toks[j - 1].0, Token::Punct('@' | '.')))
    };
    let schedule = (0..toks.len()).find(|&j| word(j, "SCHEDULE"))?;
    let body = (schedule + 1..toks.len()).find(|&j| word(j, "DO"))?;
    let mut end = body;
    if end >= 2 && word(end - 2, "COMMENT") && matches!(toks[end - 1].0, Token::Str(_)) {
        end -= 2;
    }
    if word(end - 1, "DISABLE")
        || (end >= 3 && word(end - 3, "DISABLE") && word(end - 2, "ON") && word(end - 1, "SLAVE"))
    {
        return None;
    }
    if word(end - 1, "ENABLE") {
        let at = &toks[end - 1].1;
        return Some(format!("{}DISABLE{}", &stmt[..at.start], &stmt[at.end..]));
    }
    let at = toks[end].1.start;
    Some(format!("{}DISABLE {}", &stmt[..at], &stmt[at..]))
}

/// Run one statement that qtools read and judged (a restore's, a `--schema` file's) as a
/// prepared statement: the server then takes exactly one statement, whatever a reading of
/// the text could have missed (a text query runs every statement it holds). A server that
/// takes no such statement prepared (MySQL's CREATE PROCEDURE, TRIGGER and EVENT) gets it
/// as text only when it holds no `;` in code, so no second statement can follow.
pub(super) fn run_one(conn: &mut Conn, stmt: &str, lexing: Lexing) -> anyhow::Result<()> {
    match conn.prep(stmt) {
        Ok(prepared) => {
            let ran = conn.exec_drop(&prepared, ());
            let _ = conn.close(prepared);
            ran.map_err(db_error)
        }
        Err(e) if ServerError::driver_is(&e, Code::UnsupportedPs) => {
            if crate::sql::has_semicolon(stmt, lexing)? {
                bail!(
                    "this server runs this statement only as text, where the ';' in its body \
                     could start another: restore this backup with the mariadb or mysql client \
                     (nothing was changed)"
                );
            }
            conn.query_drop(stmt).map_err(db_error)
        }
        Err(e) => Err(db_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #23 (hostile review, round 3): an event is made disabled first.
    #[test]
    fn events_are_made_disabled_first() {
        let d = |s: &str| event_disabled(s, Lexing::PLAIN);
        assert_eq!(
            d("CREATE DEFINER=`r`@`%` EVENT `e` ON SCHEDULE EVERY 1 DAY STARTS '2026-01-01' ON COMPLETION NOT PRESERVE ENABLE DO INSERT INTO t VALUES (1)").as_deref(),
            Some("CREATE DEFINER=`r`@`%` EVENT `e` ON SCHEDULE EVERY 1 DAY STARTS '2026-01-01' ON COMPLETION NOT PRESERVE DISABLE DO INSERT INTO t VALUES (1)")
        );
        assert_eq!(
            d("CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP COMMENT 'ENABLE DO' DO SELECT 1").as_deref(),
            Some("CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP DISABLE COMMENT 'ENABLE DO' DO SELECT 1")
        );
        assert_eq!(
            d("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE DO SELECT 1"),
            None
        );
        assert_eq!(
            d("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1"),
            None
        );
        // See: #23 (hostile review, round 4): the word elsewhere is no status.
        assert_eq!(
            d("CREATE EVENT disable ON SCHEDULE AT CURRENT_TIMESTAMP ON COMPLETION PRESERVE DO SELECT 1").as_deref(),
            Some("CREATE EVENT disable ON SCHEDULE AT CURRENT_TIMESTAMP ON COMPLETION PRESERVE DISABLE DO SELECT 1")
        );
        assert_eq!(
            d("CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL @disable SECOND DO SELECT 1").as_deref(),
            Some("CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL @disable SECOND DISABLE DO SELECT 1")
        );
    }
}
