//! The network under a connection: how long it waits (`--connect-timeout`,
//! `--read-timeout`, `--write-timeout`), what a stalled or lost connection reads as, and
//! what is done about a stalled one (its session ended on the server, its socket shut).

use std::time::Duration;

use mysql::prelude::Queryable as _;
use mysql::{Conn, OptsBuilder};

/// How long a connection waits on the network (`--connect-timeout`, `--read-timeout`,
/// `--write-timeout`); `None`: for ever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub read: Option<Duration>,
    pub write: Option<Duration>,
}

impl Default for Timeouts {
    /// Long enough for any healthy wait the tools know of (a lock held by another
    /// session, a slow sort before the first row); short enough that a cron job on a
    /// stalled network ends within the hour, with an error.
    fn default() -> Timeouts {
        Timeouts {
            connect: Some(Duration::from_secs(30)),
            read: Some(Duration::from_secs(3600)),
            write: Some(Duration::from_secs(3600)),
        }
    }
}

impl Timeouts {
    /// The read and write timeouts while connecting: no longer than `--connect-timeout`,
    /// so that a server that accepts the connection and then says nothing (no greeting,
    /// no answer to the login) is given up within it, not within `--read-timeout`.
    pub(super) fn while_connecting(&self) -> (Option<Duration>, Option<Duration>) {
        let at_most = |t: Option<Duration>| match (t, self.connect) {
            (Some(t), Some(c)) => Some(t.min(c)),
            (t, None) => t,
            (None, c) => c,
        };
        (at_most(self.read), at_most(self.write))
    }

    /// Set the socket of `conn`, once connected, to the read and write timeouts of the
    /// rest of its life.
    pub(super) fn apply(&self, conn: &Conn) -> anyhow::Result<()> {
        let sock = std::net::TcpStream::from(socket_of(conn)?);
        sock.set_read_timeout(self.read)?;
        sock.set_write_timeout(self.write)?;
        Ok(())
    }
}

/// The options of the last connection made: the login [`Session::end`] uses. A process of
/// these tools talks to one server, as one user.
static LOGIN: std::sync::Mutex<Option<OptsBuilder>> = std::sync::Mutex::new(None);

/// Keep `opts` (those of a connection about to be made) as the login of this process.
pub(super) fn remember_login(opts: &OptsBuilder) {
    if let Ok(mut l) = LOGIN.lock() {
        *l = Some(opts.clone());
    }
}

/// How long the connection that ends a stalled session waits, at most, on each step.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// A copy of the connection's socket descriptor (the same socket: what one reads, the
/// other does not see again; a socket option set on one is set on both).
#[allow(unsafe_code)]
pub(crate) fn socket_of(conn: &Conn) -> anyhow::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, BorrowedFd};
    // SAFETY: the descriptor is the driver's open socket, and `conn` is borrowed for as
    // long as this borrow lives: it is only duplicated, at once.
    let fd = unsafe { BorrowedFd::borrow_raw(conn.as_raw_fd()) };
    Ok(fd.try_clone_to_owned()?)
}

/// Run `sql`, a statement that may rightly send nothing for longer than `--read-timeout`
/// (a deferred index build, the move of staged rows into a table): its reads wait for
/// ever (keepalives still find a peer that is gone), and the timeout is set again after.
/// The outer error is the socket's; the inner one the statement's.
pub fn query_patiently(conn: &mut Conn, sql: &str) -> anyhow::Result<mysql::Result<()>> {
    // The socket, for its socket-level options only (`SO_RCVTIMEO` is the same call on a
    // TCP or a Unix socket).
    let sock = std::net::TcpStream::from(socket_of(conn)?);
    let was = sock.read_timeout()?;
    sock.set_read_timeout(None)?;
    let ran = conn.query_drop(sql);
    let _ = sock.set_read_timeout(was);
    Ok(ran)
}

/// [`db_error`] of an error on `conn`; when it says the network stalled, the session is
/// ended first (see [`Session::end`]).
pub fn db_error_on(conn: &Conn, e: mysql::Error) -> anyhow::Error {
    match Session::of(conn) {
        Ok(s) => s.db_error(e),
        Err(_) => db_error(e),
    }
}

/// What it takes to end a connection's session while the connection itself is busy (its
/// rows being read): the session's id and a copy of its socket.
pub struct Session {
    id: u32,
    sock: std::os::fd::OwnedFd,
}

impl Session {
    pub fn of(conn: &Conn) -> anyhow::Result<Session> {
        Ok(Session {
            id: conn.connection_id(),
            sock: socket_of(conn)?,
        })
    }

    /// [`db_error`] of an error on this session; when it says the network stalled, the
    /// session is ended first, so that the server does not keep it, its transaction and
    /// its locks for as long as its own timeouts say (a day, for a load), and nothing
    /// more waits on it here.
    pub fn db_error(&self, e: mysql::Error) -> anyhow::Error {
        if stalled(&e) {
            self.end();
        }
        db_error(e)
    }

    /// End the session on the server, from a fresh connection with the same login (`KILL`:
    /// its transaction rolls back, its locks go), each step waiting at most [`KILL_WAIT`];
    /// then shut its socket, so that whatever is said on it next (a rollback, the driver's
    /// goodbye) fails at once instead of waiting out the timeouts again. Best effort:
    /// where the fresh connection cannot be made either, the server ends the session by
    /// its own timeouts.
    fn end(&self) {
        if let Some(login) = LOGIN.lock().ok().and_then(|l| l.clone()) {
            let opts = login
                .init(Vec::<String>::new())
                .tcp_connect_timeout(Some(KILL_WAIT))
                .read_timeout(Some(KILL_WAIT))
                .write_timeout(Some(KILL_WAIT));
            if let Ok(mut other) = Conn::new(opts) {
                let _ = other.query_drop(format!("KILL {}", self.id));
            }
        }
        if let Ok(fd) = self.sock.try_clone() {
            let _ = std::net::TcpStream::from(fd).shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Whether `e` says the network stalled: a read or a write that waited its whole
/// timeout.
pub(super) fn stalled(e: &mysql::Error) -> bool {
    went_away(e).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    })
}

/// A driver error as one readable line: `Access denied for user ... (ERROR 1045)` rather
/// than the driver's `MySqlError { ERROR 1045 (28000): ... }`.
pub fn db_error(e: mysql::Error) -> anyhow::Error {
    if let Some(io) = went_away(&e) {
        if stalled(&e) {
            return anyhow::anyhow!(
                "the network stalled: nothing came from the server within --read-timeout, or \
                 it took nothing within --write-timeout (0 waits for ever; see \
                 docs/connections.md)"
            );
        }
        return anyhow::anyhow!("lost the connection to the server ({io})");
    }
    match e {
        // Kept as a type a caller can match by its code (see dberror.rs).
        mysql::Error::MySqlError(m) => anyhow::Error::new(crate::dberror::ServerError::from(m)),
        mysql::Error::IoError(io) => anyhow::Error::new(io),
        // Their own words, without the driver's `DriverError { ... }` around them.
        mysql::Error::DriverError(d) => anyhow::anyhow!("{d}"),
        mysql::Error::CodecError(c) => anyhow::anyhow!("{c}"),
        mysql::Error::UrlError(u) => anyhow::anyhow!("{u}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The socket error in `e`, if it says the server went away (a killed session, a restart,
/// the network): such an error reads as words, not as the driver's `CodecError { IO
/// error: ... }`, however deep the driver wrapped it (our LOCAL INFILE handler's writes
/// come back as an I/O error around a driver error around an I/O error).
fn went_away<'e>(mut e: &'e (dyn std::error::Error + 'static)) -> Option<&'e std::io::Error> {
    use std::io::ErrorKind::{
        BrokenPipe, ConnectionAborted, ConnectionReset, TimedOut, UnexpectedEof, WouldBlock,
    };
    for _ in 0..8 {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            // The driver's own words for a packet cut short by a server that died (the
            // driver's, not the server's: no language setting changes them).
            if matches!(
                io.kind(),
                BrokenPipe
                    | ConnectionReset
                    | ConnectionAborted
                    | UnexpectedEof
                    | WouldBlock
                    | TimedOut
            ) || io.to_string().contains("bytes remaining on stream")
            {
                return Some(io);
            }
            e = io.get_ref()?;
            continue;
        }
        e = match e.downcast_ref::<mysql::Error>() {
            Some(mysql::Error::IoError(io)) => io,
            Some(mysql::Error::CodecError(c)) => c,
            _ => e.source()?,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_gone_away_reads_as_words_however_deep() {
        use std::io::{Error, ErrorKind};
        let pipe = || mysql::Error::IoError(Error::from(ErrorKind::BrokenPipe));
        let lost = |e: mysql::Error| db_error(e).to_string();
        assert!(lost(pipe()).starts_with("lost the connection to the server ("));
        // Our LOCAL INFILE handler's write error, as the driver hands it back.
        let wrapped = mysql::Error::IoError(Error::other(pipe()));
        assert!(lost(wrapped).starts_with("lost the connection to the server ("));
        // Other socket errors stay as they are.
        let refused = mysql::Error::IoError(Error::from(ErrorKind::ConnectionRefused));
        assert!(!lost(refused).contains("lost the connection"));
        // See: #14: the driver's own errors read as words, not as Rust debug text.
        let driver = mysql::Error::DriverError(mysql::DriverError::ConnectTimeout);
        assert!(!lost(driver).contains("DriverError"));
    }
}
