//! `qexport --serve ADDR TABLE...` (or `--all`): each listed table at `GET /TABLE.csv`
//! (`/DB/TABLE.csv` for a table given as DB.TABLE), a fresh export per request (its own
//! snapshot), byte for byte what `qexport TABLE` writes, streamed in chunks: memory stays
//! flat whatever the table and however slow the client. See docs/serve.md.
//!
//! Nothing of the URL becomes SQL: a path names one of the listed tables or nothing
//! (404); `?columns=` names columns of that table (checked against its definition, then
//! quoted); `?limit=` is a number. `--max-clients` bounds the exports running at once
//! (another request gets 503 with `Retry-After`); the socket's timeouts end a stalled
//! client. A failure in the middle of a body ends the connection without the last chunk,
//! after the failure mark (as qexport's stdout ends): the client sees a transfer cut
//! short, and a CSV reader a last field that never closes, never a short CSV that looks
//! complete.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::args::Config;
use super::engine::Sinks;
use super::http::{self, Body, Refused, Request};
use super::plan::TableQuery;
use crate::schema::TableInfo;
use crate::sql::TableName;

/// What `--serve` was given.
#[derive(Debug, Clone)]
pub(super) struct Serve {
    pub(super) addr: String,
    /// The tables; `None`: every table of the database (`--all`).
    pub(super) tables: Option<Vec<String>>,
    pub(super) max_clients: usize,
    pub(super) token_file: Option<PathBuf>,
    pub(super) cert: Option<PathBuf>,
    pub(super) key: Option<PathBuf>,
    /// `--plain-token`: a token over plain HTTP beyond this host, on purpose.
    pub(super) plain_token: bool,
    /// How long a client may be silent (reading its request, or taking our bytes).
    pub(super) timeout: Duration,
}

/// The most connections open at once, whatever they do (each holds a thread until it
/// ends, or its client is silent for --client-timeout).
const MAX_CONNECTIONS: usize = 256;

/// How long running responses may go on after SIGTERM or Ctrl-C.
const GRACE: Duration = Duration::from_secs(5);

/// One served table: its path and definition.
struct Served {
    path: String,
    /// Its database.
    db: String,
    /// As it was at the start (the index's estimate); each request reads it again.
    info: TableInfo,
}

/// What every connection shares.
struct Shared {
    served: Vec<Served>,
    token: Option<Vec<u8>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Exports running now (bounded by `--max-clients`).
    running: AtomicUsize,
    /// Connections open now (bounded by [`MAX_CONNECTIONS`]).
    open: AtomicUsize,
    max: usize,
    stopping: AtomicBool,
    timeout: Duration,
}

/// A client's stream: plain TCP, or TLS over it.
trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

pub(super) fn run(cfg: &Config, s: &Serve) -> anyhow::Result<ExitCode> {
    let mut conn = super::read::connect(cfg)?;
    let db = cfg.conn.database.clone().unwrap_or_default();
    // `--all`: the tables of the database, by their names as they are (`a.b` is one
    // table of this database, never the table b of a database a).
    let names: Vec<TableName> = match &s.tables {
        Some(t) => t
            .iter()
            .map(|n| TableName::parse(n))
            .collect::<anyhow::Result<_>>()?,
        None => crate::schema::list_tables(&mut conn, &db)?
            .into_iter()
            .map(|table| TableName {
                database: None,
                table,
            })
            .collect(),
    };
    let mut served = Vec::new();
    for name in names {
        let n = name.to_string();
        let in_db = name.database.clone().unwrap_or_else(|| db.clone());
        let info = TableInfo::load(&mut conn, &in_db, &name.table)
            .with_context(|| format!("--serve: the table {n}"))?;
        let path = match &name.database {
            Some(d) => format!(
                "/{}/{}.csv",
                http::percent_encode(d),
                http::percent_encode(&name.table)
            ),
            None => format!("/{}.csv", http::percent_encode(&name.table)),
        };
        served.push(Served {
            path,
            db: in_db,
            info,
        });
    }
    drop(conn);
    let token = s
        .token_file
        .as_ref()
        .map(|f| -> anyhow::Result<Vec<u8>> {
            let t = std::fs::read_to_string(f)
                .with_context(|| format!("--token-file {}", f.display()))?;
            let t = t.trim();
            if t.is_empty() {
                bail!("--token-file {}: the file is empty", f.display());
            }
            Ok(t.as_bytes().to_vec())
        })
        .transpose()?;
    let tls = match (&s.cert, &s.key) {
        (Some(c), Some(k)) => Some(Arc::new(server_tls(c, k)?)),
        _ => None,
    };
    let listener =
        TcpListener::bind(&s.addr).with_context(|| format!("--serve {}: cannot listen", s.addr))?;
    let local = listener.local_addr()?;
    if token.is_some() && tls.is_none() && !local.ip().is_loopback() && !s.plain_token {
        bail!(
            "--token-file with plain HTTP on {local}: the token would cross the network in clear; give --serve-cert and --serve-key (HTTPS), or --plain-token to accept it"
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let reach = if local.ip().is_loopback() {
        "this host only"
    } else if token.is_none() {
        "open to the network, without a token"
    } else {
        "the network, with a token"
    };
    eprintln!(
        "qexport: serving {} at {scheme}://{local}/ ({reach}); Ctrl-C or SIGTERM stops",
        crate::error::plural(served.len() as u64, "table")
    );
    let shared = Arc::new(Shared {
        served,
        token,
        tls,
        running: AtomicUsize::new(0),
        open: AtomicUsize::new(0),
        max: s.max_clients,
        stopping: AtomicBool::new(false),
        timeout: s.timeout,
    });
    // SIGTERM or Ctrl-C: take no new request, let the running ones finish for a while,
    // then end with 0.
    crate::interrupt::exit_zero_on_signal();
    let stop = Arc::clone(&shared);
    let _stop = crate::interrupt::on_interrupt(move || {
        stop.stopping.store(true, Ordering::SeqCst);
        let until = Instant::now() + GRACE;
        while stop.running.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    accept(cfg, &shared, &listener);
    Ok(ExitCode::SUCCESS)
}

/// Take connections until the process ends, each on a thread of its own.
fn accept(cfg: &Config, shared: &Arc<Shared>, listener: &TcpListener) {
    std::thread::scope(|scope| {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else {
                // Out of file descriptors, say: a pause, not a loop that spins.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            };
            if shared.stopping.load(Ordering::SeqCst) {
                continue;
            }
            // Connections are bounded too (each has a thread while it lives): beyond the
            // bound, a short 503 at once, not one more thread.
            if shared.open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                shared.open.fetch_sub(1, Ordering::SeqCst);
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = http::answer(
                    &mut stream,
                    503,
                    &[("Retry-After", "5".into())],
                    b"busy: too many connections; try again\n",
                    false,
                );
                continue;
            }
            // A thread the system refuses is one connection refused, not the server's end.
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                connection(cfg, shared, stream);
                shared.open.fetch_sub(1, Ordering::SeqCst);
            });
            if spawned.is_err() {
                shared.open.fetch_sub(1, Ordering::SeqCst);
            }
        }
    });
}

/// The HTTPS settings from PEM files.
fn server_tls(cert: &PathBuf, key: &PathBuf) -> anyhow::Result<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect)
        .map_err(|e| anyhow::anyhow!("--serve-cert {}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("--serve-key {}: {e}", key.display()))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("--serve-cert and --serve-key")
}

/// One connection: one request, answered, and an access log line.
fn connection(cfg: &Config, shared: &Shared, stream: TcpStream) {
    let started = Instant::now();
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a: SocketAddr| a.to_string());
    let _ = stream.set_read_timeout(Some(shared.timeout));
    let _ = stream.set_write_timeout(Some(shared.timeout));
    let _ = stream.set_nodelay(true);
    let mut io: Box<dyn Io> = match &shared.tls {
        Some(tls) => match rustls::ServerConnection::new(Arc::clone(tls)) {
            Ok(c) => Box::new(rustls::StreamOwned::new(c, stream)),
            Err(_) => return,
        },
        None => Box::new(stream),
    };
    let (line, status, bytes) = match http::read_request(&mut io, shared.timeout) {
        Ok(req) => {
            let line = format!("{} {}", req.method, logged(&req.target));
            let (status, bytes) = respond(cfg, shared, &req, &mut io);
            (line, status, bytes)
        }
        Err(Refused::Gone) => return,
        Err(Refused::TooLarge) => {
            let n = http::answer(&mut io, 431, &[], b"request head too large\n", false);
            ("-".into(), 431, n.unwrap_or(0))
        }
        Err(Refused::Malformed(why)) => {
            let n = http::answer(&mut io, 400, &[], format!("{why}\n").as_bytes(), false);
            ("-".into(), 400, n.unwrap_or(0))
        }
    };
    eprintln!(
        "qexport: {peer} \"{line}\" {status} {bytes} {}ms",
        started.elapsed().as_millis()
    );
}

/// A request's target as the log says it: its query only when it is ours (`columns`,
/// `limit`): a token a client put in the URL is not written to the log.
fn logged(target: &str) -> String {
    match target.split_once('?') {
        Some((path, query))
            if !query.split('&').all(|p| {
                let k = p.split_once('=').map_or(p, |(k, _)| k);
                k == "columns" || k == "limit" || k.is_empty()
            }) =>
        {
            format!("{path}?(not logged)")
        }
        _ => target.to_owned(),
    }
}

/// Answer one request: (status, body bytes).
fn respond(cfg: &Config, shared: &Shared, req: &Request, io: &mut Box<dyn Io>) -> (u16, u64) {
    let short = |io: &mut Box<dyn Io>, status: u16, msg: &str, extra: &[(&str, String)]| {
        let n = http::answer(
            io,
            status,
            extra,
            format!("{msg}\n").as_bytes(),
            req.method == "HEAD",
        );
        (status, n.unwrap_or(0))
    };
    if req.method != "GET" && req.method != "HEAD" {
        return short(
            io,
            405,
            "only GET and HEAD",
            &[("Allow", "GET, HEAD".into())],
        );
    }
    if let Some(want) = &shared.token {
        let given = req
            .header("authorization")
            .and_then(|a| {
                // The scheme's name is case-insensitive (RFC 9110).
                let (scheme, token) = a.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token)
            })
            .map(str::trim)
            .unwrap_or_default();
        if !http::same_secret(given.as_bytes(), want) {
            return short(
                io,
                401,
                "a bearer token is needed (Authorization: Bearer ...)",
                &[("WWW-Authenticate", "Bearer".into())],
            );
        }
    }
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    if path == "/" {
        let body = index(shared);
        let n = http::answer(
            io,
            200,
            &[("Content-Type", "text/html; charset=utf-8".into())],
            body.as_bytes(),
            req.method == "HEAD",
        );
        return (200, n.unwrap_or(0));
    }
    // The path as the client wrote it, or decoded: either must be a served table's.
    let decoded = http::percent_decode(path);
    let Some(served) = shared.served.iter().find(|s| {
        s.path == path
            || decoded
                .as_deref()
                .is_some_and(|d| http::percent_decode(&s.path).as_deref() == Some(d))
    }) else {
        return short(io, 404, "not found", &[]);
    };
    let (columns, limit) = match parameters(query, &served.info) {
        Ok(p) => p,
        Err(why) => return short(io, 400, &why, &[]),
    };
    // A place among the running exports, or 503 now.
    let taken = shared
        .running
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < shared.max).then_some(n + 1)
        });
    if taken.is_err() || shared.stopping.load(Ordering::SeqCst) {
        return short(
            io,
            503,
            "busy: every export place is taken (--max-clients); try again",
            &[("Retry-After", "5".into())],
        );
    }
    let result = stream_table(cfg, served, columns.as_deref(), limit, req, io);
    shared.running.fetch_sub(1, Ordering::SeqCst);
    match result {
        Ok(done) => done,
        Err((n, e)) => {
            eprintln!(
                "qexport: {}: the export failed in the middle, the transfer is cut: {e:#}",
                served.path
            );
            (200, n)
        }
    }
}

/// `?columns=a,b&limit=N`, checked against the table: anything else is refused.
fn parameters(query: &str, info: &TableInfo) -> Result<(Option<Vec<String>>, Option<u64>), String> {
    let (mut columns, mut limit) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = http::percent_decode(&v.replace('+', " "))
            .ok_or_else(|| format!("{k}: a value that does not decode"))?;
        if (k == "columns" && columns.is_some()) || (k == "limit" && limit.is_some()) {
            return Err(format!("{k} given twice"));
        }
        match k {
            "columns" => {
                let cols: Vec<String> = v.split(',').map(str::to_owned).collect();
                if let Some(bad) = cols.iter().find(|c| info.column(c).is_none()) {
                    return Err(format!("unknown column {bad:?} of {}", info.name.table));
                }
                columns = Some(cols);
            }
            "limit" => {
                limit = Some(
                    v.parse::<u64>()
                        .map_err(|_| format!("limit={v:?}: a number of rows is needed"))?,
                );
            }
            other => {
                return Err(format!(
                    "unknown parameter {other:?}: only columns= and limit="
                ))
            }
        }
    }
    Ok((columns, limit))
}

/// The index page: every served table, a link, and its estimated rows.
fn index(shared: &Shared) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>qexport</title></head><body>\n<ul>\n",
    );
    for t in &shared.served {
        let shown = http::percent_decode(&t.path).unwrap_or_default();
        let _ = writeln!(
            s,
            "<li><a href=\"{}\">{}</a> (~{} rows)</li>",
            http::html_escape(&t.path),
            http::html_escape(shown.trim_start_matches('/')),
            crate::error::grouped(t.info.estimated_rows)
        );
    }
    s.push_str("</ul>\n</body></html>\n");
    s
}

/// The engine's output into an HTTP body.
struct HttpSink<'a> {
    body: Option<Body<&'a mut Box<dyn Io>>>,
    sent: u64,
    /// To stop the query when the client is gone: the settings, and its session's id.
    cfg: &'a Config,
    session: u32,
}

impl Sinks for HttpSink<'_> {
    fn write(&mut self, _out: usize, bytes: &[u8]) -> anyhow::Result<()> {
        let sent = match &mut self.body {
            Some(b) => b.write_all(bytes).context("sending to the client"),
            None => bail!("the body is closed"),
        };
        if sent.is_err() {
            // The client is gone: the rest of the rows are not read for nobody (the
            // driver would read them all before the session is free again).
            if let Ok(mut c) = super::read::connect(self.cfg) {
                let _ = mysql::prelude::Queryable::query_drop(
                    &mut c,
                    format!("KILL QUERY {}", self.session),
                );
            }
        }
        sent
    }

    fn finish(&mut self, _out: usize, _rows: u64) -> anyhow::Result<()> {
        if let Some(b) = self.body.take() {
            self.sent = b.finish().context("sending to the client")?;
        }
        Ok(())
    }
}

/// Export the table into the response: (status, bytes), or (bytes sent, why) when it
/// stopped in the middle. The table is read again (its columns may have changed since
/// the start), on the request's own session.
fn stream_table(
    cfg: &Config,
    served: &Served,
    columns: Option<&[String]>,
    limit: Option<u64>,
    req: &Request,
    io: &mut Box<dyn Io>,
) -> Result<(u16, u64), (u64, anyhow::Error)> {
    let head_only = req.method == "HEAD";
    let short = |io: &mut Box<dyn Io>, status: u16, msg: &str| {
        let n = http::answer(io, status, &[], format!("{msg}\n").as_bytes(), head_only);
        Ok((status, n.unwrap_or(0)))
    };
    // The session first: a server that cannot be reached is a 500, not a cut body.
    let mut conn = match super::read::connect(cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("qexport: {}: {e:#}", served.path);
            return short(io, 500, "the database cannot be reached");
        }
    };
    let Ok(info) = TableInfo::load(&mut conn, &served.db, &served.info.name.table) else {
        return short(io, 404, "not found (no longer there)");
    };
    if let Some(bad) = columns.and_then(|c| c.iter().find(|c| info.column(c).is_none())) {
        return short(
            io,
            400,
            &format!("unknown column {bad:?} of {}", info.name.table),
        );
    }
    let file: String = info
        .name
        .table
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tq = TableQuery::new(info, columns, None, None, limit).map_err(|e| (0, e))?;
    let gzip = http::takes_gzip(req.header("accept-encoding"));
    let mut headers = vec![
        (
            "Content-Type",
            "text/csv; charset=utf-8; header=present".to_owned(),
        ),
        (
            "Content-Disposition",
            format!("attachment; filename=\"{file}.csv\""),
        ),
        ("Vary", "Accept-Encoding".to_owned()),
    ];
    if gzip {
        headers.push(("Content-Encoding", "gzip".to_owned()));
    }
    http::stream_head(io, &headers).map_err(|e| (0, e.into()))?;
    if head_only {
        let _ = io.flush();
        return Ok((200, 0));
    }
    let mut sink = HttpSink {
        body: Some(Body::new(io, gzip)),
        sent: 0,
        cfg,
        session: conn.connection_id(),
    };
    // A panic (a bug; the driver panics on some malformed answers) is this request's
    // failure: its body gets the mark and its place among the exports is given back.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        super::export_into(cfg, &mut conn, &tq, &mut sink)
    }));
    let run = run.unwrap_or_else(|_| {
        Err(anyhow::anyhow!(
            "internal error (a panic; a bug: please report it)"
        ))
    });
    match run {
        Ok(()) => {
            let sent = sink.sent;
            // A table whose export wrote nothing still ends its body.
            if let Some(b) = sink.body.take() {
                return b.finish().map(|n| (200, n)).map_err(|e| (0, e.into()));
            }
            Ok((200, sent))
        }
        // Dropped without its last chunk (nor, gzipped, its gzip ending): the client
        // sees the transfer cut, and a CSV reader the failure mark (what failed is said
        // in the server's log only).
        Err(e) => {
            let mark = crate::out::failure_mark("qexport", "the export stopped before the end");
            let sent = sink
                .body
                .take()
                .map_or(sink.sent, |b| b.abandon(mark.as_bytes()));
            Err((sent, e))
        }
    }
}
