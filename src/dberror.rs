//! The server's errors and warnings by their numbers, not their words. A server with
//! `lc_messages` set to another language translates the message but never the code, so
//! every decision qtools takes on an error or a warning matches a [`Code`]; the message is
//! only said (see: #26).

use std::fmt;

/// The server errors and warnings qtools decides on (MariaDB and MySQL share them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 1044: access denied to a database.
    DbAccessDenied,
    /// 1045: access denied for the user (a wrong password).
    AccessDenied,
    /// 1062: `Duplicate entry 'X' for key 'K'`.
    DupEntry,
    /// 1064: a syntax error.
    ParseError,
    /// 1118: a row wider than the engine takes.
    RowSizeTooLarge,
    /// 1205: a lock wait ran out (`lock_wait_timeout`, `innodb_lock_wait_timeout`).
    LockWaitTimeout,
    /// 1213: InnoDB chose this transaction to end a deadlock (and rolled it back).
    Deadlock,
    /// 1227: the statement needs a privilege the user lacks (SUPER, PROCESS, ...).
    SpecificAccessDenied,
    /// 1264: a number out of its column's range.
    OutOfRange,
    /// 1265: `Data truncated for column` (also an ENUM's error value '').
    DataTruncated,
    /// 1295: the statement cannot be prepared.
    UnsupportedPs,
    /// 1356: a view that refers to what is not there (or not allowed).
    ViewInvalid,
    /// 3159: the account requires a secure transport.
    SecureTransportRequired,
    /// Any other, by its number.
    Other(u16),
}

impl Code {
    const KNOWN: [(u16, Code); 13] = [
        (1044, Code::DbAccessDenied),
        (1045, Code::AccessDenied),
        (1062, Code::DupEntry),
        (1064, Code::ParseError),
        (1118, Code::RowSizeTooLarge),
        (1205, Code::LockWaitTimeout),
        (1213, Code::Deadlock),
        (1227, Code::SpecificAccessDenied),
        (1264, Code::OutOfRange),
        (1265, Code::DataTruncated),
        (1295, Code::UnsupportedPs),
        (1356, Code::ViewInvalid),
        (3159, Code::SecureTransportRequired),
    ];

    pub fn of(n: u16) -> Code {
        Code::KNOWN
            .iter()
            .find(|(k, _)| *k == n)
            .map_or(Code::Other(n), |(_, c)| *c)
    }

    pub fn number(self) -> u16 {
        match self {
            Code::Other(n) => n,
            known => Code::KNOWN
                .iter()
                .find(|(_, c)| *c == known)
                .map_or(0, |(n, _)| *n),
        }
    }
}

/// An error the server returned: its code, SQLSTATE and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub code: Code,
    pub state: String,
    pub message: String,
}

impl From<mysql::MySqlError> for ServerError {
    fn from(e: mysql::MySqlError) -> Self {
        ServerError {
            code: Code::of(e.code),
            state: e.state,
            message: e.message,
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.code.number();
        match self.code {
            Code::LockWaitTimeout => write!(
                f,
                "another session holds a lock this one waited for until --lock-wait-timeout \
                 (ERROR {n}: {}): retry when it is done, or wait longer",
                self.message
            ),
            _ => write!(f, "{} (ERROR {n})", self.message),
        }
    }
}

impl std::error::Error for ServerError {}

impl ServerError {
    /// The server error in `e` or in what caused it, if there is one.
    pub fn in_chain(e: &anyhow::Error) -> Option<&ServerError> {
        e.chain().find_map(|c| c.downcast_ref::<ServerError>())
    }

    /// `e` is, or was caused by, the server error `code`.
    pub fn is(e: &anyhow::Error, code: Code) -> bool {
        ServerError::in_chain(e).is_some_and(|s| s.code == code)
    }

    /// `e` is the server error `code`, straight from the driver.
    pub fn driver_is(e: &mysql::Error, code: Code) -> bool {
        matches!(e, mysql::Error::MySqlError(m) if Code::of(m.code) == code)
    }
}

/// One row of `SHOW WARNINGS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: Code,
    pub message: String,
}

impl Warning {
    /// The first `limit` warnings of the session's last statement (none if they cannot be
    /// read).
    pub fn read(conn: &mut mysql::Conn, limit: u32) -> Vec<Warning> {
        use mysql::prelude::Queryable as _;
        let rows: Vec<(String, u16, String)> = conn
            .query(format!("SHOW WARNINGS LIMIT {limit}"))
            .unwrap_or_default();
        rows.into_iter()
            .map(|(_, code, message)| Warning {
                code: Code::of(code),
                message,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_go_both_ways() {
        for n in [
            1044, 1045, 1062, 1064, 1205, 1227, 1264, 1265, 1295, 1356, 3159, 1146,
        ] {
            assert_eq!(Code::of(n).number(), n);
        }
        assert_eq!(Code::of(1062), Code::DupEntry);
        assert_eq!(Code::of(1146), Code::Other(1146));
    }

    #[test]
    fn said_as_before_and_found_in_a_chain() {
        let e = ServerError {
            code: Code::DupEntry,
            state: "23000".into(),
            message: "Doppelter Eintrag".into(),
        };
        assert_eq!(e.to_string(), "Doppelter Eintrag (ERROR 1062)");
        let wrapped = anyhow::Error::new(e).context("loading");
        assert!(ServerError::is(&wrapped, Code::DupEntry));
        assert!(!ServerError::is(&wrapped, Code::ParseError));
    }
}
