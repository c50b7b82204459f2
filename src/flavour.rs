//! MariaDB or MySQL: the server's flavour and version, read once per process (a run talks
//! to one server), and every statement whose text depends on them. Everything else qtools
//! sends is valid on both (MariaDB 10.6+, MySQL 8.0+); docs/mysql.md lists what differs.

use std::sync::OnceLock;

use anyhow::bail;
use mysql::prelude::Queryable as _;
use mysql::Conn;

use crate::conn::db_error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    MariaDb,
    MySql,
}

/// The server a run talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    pub flavour: Flavour,
    pub version: (u16, u16, u16),
}

/// Statements that run one statement under another `sql_mode`, putting the session's
/// back after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scoped {
    pub before: Vec<String>,
    pub statement: String,
    pub after: Vec<String>,
}

impl Server {
    /// From `SELECT VERSION()`: `10.11.19-MariaDB-0+deb12u1`, `8.0.36`, `8.4.0-log`.
    pub fn parse(version: &str) -> Server {
        let flavour = if version.contains("MariaDB") {
            Flavour::MariaDb
        } else {
            Flavour::MySql
        };
        let mut parts = version
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u16>().unwrap_or(0));
        let mut next = || parts.next().unwrap_or(0);
        Server {
            flavour,
            version: (next(), next(), next()),
        }
    }

    /// The server of this run: asked once, then remembered.
    pub fn of(conn: &mut Conn) -> anyhow::Result<Server> {
        static SERVER: OnceLock<Server> = OnceLock::new();
        if let Some(s) = SERVER.get() {
            return Ok(*s);
        }
        let v: Option<String> = conn.query_first("SELECT VERSION()").map_err(db_error)?;
        Ok(*SERVER.get_or_init(|| Server::parse(&v.unwrap_or_default())))
    }

    /// `statement` under `sql_mode` (a quoted SQL string) alone: MariaDB's `SET STATEMENT
    /// ... FOR`; on MySQL, which has no such thing, the session's mode is set around it.
    pub fn with_sql_mode(self, sql_mode: &str, statement: &str) -> Scoped {
        match self.flavour {
            Flavour::MariaDb => Scoped {
                before: Vec::new(),
                statement: format!("SET STATEMENT sql_mode = {sql_mode} FOR {statement}"),
                after: Vec::new(),
            },
            Flavour::MySql => Scoped {
                before: vec![
                    "SET @qtools_sql_mode = @@SESSION.sql_mode".to_owned(),
                    format!("SET SESSION sql_mode = {sql_mode}"),
                ],
                statement: statement.to_owned(),
                after: vec!["SET SESSION sql_mode = @qtools_sql_mode".to_owned()],
            },
        }
    }

    /// Turning CHECK constraints off for a restore: MariaDB has a session switch; MySQL
    /// has none (its restore keeps them on).
    pub fn check_constraints_off(self) -> Option<&'static str> {
        match self.flavour {
            Flavour::MariaDb => Some("SET SESSION check_constraint_checks = 0"),
            Flavour::MySql => None,
        }
    }

    /// Letting a restore write the history rows of system-versioned tables (MariaDB 10.11
    /// and later; MySQL has no such tables).
    pub fn history_insert(self) -> anyhow::Result<&'static str> {
        match self.flavour {
            Flavour::MariaDb if self.version >= (10, 11, 0) => {
                Ok("SET SESSION system_versioning_insert_history = 1")
            }
            Flavour::MariaDb => bail!(
                "restoring the history of system-versioned tables needs MariaDB 10.11 or \
                 later (system_versioning_insert_history); this server is {}.{}.{}",
                self.version.0,
                self.version.1,
                self.version.2
            ),
            Flavour::MySql => bail!(
                "the backup holds system-versioned tables, which MySQL does not have: \
                 restore it into MariaDB 10.11 or later"
            ),
        }
    }

    /// InnoDB's dictionary of foreign keys (`ID`, `FOR_NAME`, `REF_NAME` as `db/table`,
    /// `TYPE` flags): every one, whoever may see the tables, to users with PROCESS.
    pub fn foreign_keys_table(self) -> &'static str {
        match self.flavour {
            Flavour::MariaDb => "information_schema.INNODB_SYS_FOREIGN",
            Flavour::MySql => "information_schema.INNODB_FOREIGN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARIADB: Server = Server {
        flavour: Flavour::MariaDb,
        version: (10, 11, 19),
    };
    const MYSQL: Server = Server {
        flavour: Flavour::MySql,
        version: (8, 0, 36),
    };

    #[test]
    fn versions_parse() {
        assert_eq!(Server::parse("10.11.19-MariaDB-0+deb12u1"), MARIADB);
        assert_eq!(Server::parse("8.0.36"), MYSQL);
        assert_eq!(
            Server::parse("8.4.0-log"),
            Server {
                flavour: Flavour::MySql,
                version: (8, 4, 0)
            }
        );
        assert_eq!(Server::parse("").version, (0, 0, 0));
    }

    // See: #16 (MySQL): the statement texts that differ, per flavour.
    #[test]
    fn statements_per_flavour() {
        let load = "LOAD DATA LOCAL INFILE 's' INTO TABLE `d`.`t`";
        let mode = "'NO_ENGINE_SUBSTITUTION'";
        assert_eq!(
            MARIADB.with_sql_mode(mode, load),
            Scoped {
                before: vec![],
                statement: format!("SET STATEMENT sql_mode = {mode} FOR {load}"),
                after: vec![],
            }
        );
        assert_eq!(
            MYSQL.with_sql_mode(mode, load),
            Scoped {
                before: vec![
                    "SET @qtools_sql_mode = @@SESSION.sql_mode".into(),
                    format!("SET SESSION sql_mode = {mode}"),
                ],
                statement: load.into(),
                after: vec!["SET SESSION sql_mode = @qtools_sql_mode".into()],
            }
        );
        assert_eq!(
            MARIADB.check_constraints_off(),
            Some("SET SESSION check_constraint_checks = 0")
        );
        assert_eq!(MYSQL.check_constraints_off(), None);
        assert_eq!(
            MARIADB.history_insert().unwrap(),
            "SET SESSION system_versioning_insert_history = 1"
        );
        let old = Server {
            version: (10, 6, 20),
            ..MARIADB
        };
        assert!(old
            .history_insert()
            .unwrap_err()
            .to_string()
            .contains("10.6.20"));
        assert!(MYSQL
            .history_insert()
            .unwrap_err()
            .to_string()
            .contains("MySQL"));
    }
}
