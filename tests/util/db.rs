//! The database the DB tests talk to: a private `mariadbd` (temporary datadir, its own
//! socket and port), started once per test run by scripts/test-db.sh, or the server that
//! `QTOOLS_TEST_MYSQL_URL` points at. Every test gets a database of its own.
//!
//! A test that needs the server and cannot get one panics with a message saying how to get
//! one: it never skips in silence.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts};

struct Server {
    /// `mysql://user[:pass]@host:port/` without a database.
    base: String,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!(
            "the DB tests need a MariaDB server and could not get one:\n{e}\n\
             Run scripts/test.sh (it installs mariadb-server when missing), or set \
             QTOOLS_TEST_MYSQL_URL=mysql://user:pass@host:port/ to use a running server."
        ),
    }
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("QTOOLS_TEST_MYSQL_URL") {
        let base = url.trim_end_matches('/').to_owned() + "/";
        return Ok(Server { base });
    }
    let dir = format!(
        "{}/test-db-{}",
        env!("CARGO_TARGET_TMPDIR"),
        std::process::id()
    );
    let base = super::server::PrivateServer::start_for_the_run(Path::new(&dir), "")?;
    Ok(Server { base })
}

/// A database of one test's own, dropped at the end of the test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new(test: &str) -> TestDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let s = server();
        let name = format!(
            "qt_{}_{}_{}",
            test,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut c = admin(&s.base);
        c.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
            .unwrap();
        c.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .unwrap();
        TestDb {
            url: format!("{}{name}", s.base),
            name,
        }
    }

    /// A connection to this database (UTC, utf8mb4, as the tools use).
    pub fn conn(&self) -> Conn {
        let opts = mysql::OptsBuilder::from_opts(Opts::from_url(&self.url).unwrap())
            .prefer_socket(false)
            .init(vec!["SET NAMES utf8mb4", "SET time_zone = '+00:00'"]);
        Conn::new(opts).unwrap_or_else(|e| panic!("connecting to the test database: {e}"))
    }

    /// Run SQL statements separated by `;` at line ends.
    pub fn exec(&self, sql: &str) {
        let mut c = self.conn();
        for stmt in split_sql(sql) {
            c.query_drop(&stmt)
                .unwrap_or_else(|e| panic!("{e}\nin: {stmt}"));
        }
    }

    /// Load a SQL file from fixtures/sql.
    pub fn load(&self, fixture: &str) {
        let mut sql = String::new();
        std::fs::File::open(super::fixture(&format!("sql/{fixture}")))
            .unwrap()
            .read_to_string(&mut sql)
            .unwrap();
        self.exec(&sql);
    }

    pub fn query<T: mysql::prelude::FromRow>(&self, sql: &str) -> Vec<T> {
        self.conn()
            .query(sql)
            .unwrap_or_else(|e| panic!("{e}\nin: {sql}"))
    }

    pub fn count(&self, table: &str) -> u64 {
        self.query::<u64>(&format!("SELECT COUNT(*) FROM `{table}`"))[0]
    }

    pub fn checksum(&self, table: &str) -> Option<u64> {
        self.query::<(String, Option<u64>)>(&format!("CHECKSUM TABLE `{table}`"))[0].1
    }

    /// The names of this database's tables (views and sequences too), sorted.
    pub fn tables(&self) -> Vec<String> {
        self.query(&format!(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}' ORDER BY 1",
            self.name
        ))
    }

    /// A user of its own with `password` and every privilege on this database alone
    /// (dropped with the server): its name and its URL to this database.
    pub fn user(&self, password: &str) -> (String, String) {
        super::secret(password);
        let user =
            format!("u{}", &self.name[self.name.len().saturating_sub(10)..]).replace('_', "");
        let mut c = self.conn();
        for sql in [
            format!("DROP USER IF EXISTS '{user}'@'%'"),
            format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
            format!("GRANT ALL ON `{}`.* TO '{user}'@'%'", self.name),
        ] {
            c.query_drop(&sql)
                .unwrap_or_else(|e| panic!("{e}\nin: {sql}"));
        }
        let (host, port) = self.host_port();
        let url = format!("mysql://{user}:{password}@{host}:{port}/{}", self.name);
        (user, url)
    }

    /// Is a session of this database running a statement that starts like `info` (a
    /// LIKE pattern) in a state like `state`? What the processlist shows: an event to
    /// wait on, never a time.
    pub fn running(&self, state: &str, info: &str) -> bool {
        self.conn()
            .exec_first::<u64, _, _>(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND STATE LIKE ? AND INFO LIKE ?",
                (state, info),
            )
            .unwrap()
            != Some(0)
    }

    /// Lock `table` for writing on a connection of its own (the lock lasts as long as the
    /// connection): a gate a backup or an import waits at, for as long as the test says.
    pub fn gate(&self, table: &str) -> Conn {
        let mut c = self.conn();
        c.query_drop(format!("LOCK TABLES `{table}` WRITE"))
            .unwrap();
        c
    }

    /// `host`, `port` of the server (for tests of the connection flags).
    pub fn host_port(&self) -> (String, u16) {
        let o = Opts::from_url(&self.url).unwrap();
        (o.get_ip_or_hostname().into_owned(), o.get_tcp_port())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let opts = mysql::OptsBuilder::from_opts(Opts::from_url(&server().base).unwrap());
        if let Ok(mut c) = Conn::new(opts.prefer_socket(false)) {
            let _ = c.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

fn admin(base: &str) -> Conn {
    Conn::new(mysql::OptsBuilder::from_opts(Opts::from_url(base).unwrap()).prefer_socket(false))
        .unwrap_or_else(|e| panic!("connecting to the test server {base}: {e}"))
}

fn split_sql(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        if line.trim_start().starts_with("--") && cur.trim().is_empty() {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if line.trim_end().ends_with(';') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}
