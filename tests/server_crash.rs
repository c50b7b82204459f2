//! The server dies (SIGKILL) in the middle of a run (issue #30): the tool exits 2 with one
//! line; once the server is back (InnoDB recovery), the target is exactly as before, no
//! output file stands under its final name, and the next run succeeds. On a private
//! server of this test's own, which it kills and starts again.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable as _;

use crate::util::server::PrivateServer;
use crate::util::{wait_for, Workdir};

/// The PID of the `mariadbd` of `dir` (its command line names the datadir).
fn server_pid(dir: &Path) -> u32 {
    let datadir = format!("--datadir={}/data", dir.canonicalize().unwrap().display());
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c)
                    .split('\0')
                    .any(|a| a == datadir)
            })
        })
        .expect("the private server's process")
}

/// Kill the server with SIGKILL and start it again on the same datadir (InnoDB recovers).
fn crash_and_restart(server: PrivateServer) -> PrivateServer {
    let dir = server.dir.clone();
    let pid = server_pid(&dir);
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_for("the killed server to be gone", &|| {
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    // Not dropped: dropping stops the server and deletes its folder.
    std::mem::forget(server);
    PrivateServer::start(&dir, "").unwrap()
}

/// Wait for `child` to end, at most 60 s, and expect exit 2 with one line on stderr
/// (`what` says which run, in a failure).
fn failed_in_one_line(mut child: std::process::Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "{what}: the tool still runs 60 s after the crash"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
}

fn checksum(server: &PrivateServer) -> Vec<(String, Option<u64>)> {
    let mut c = server.admin();
    let tables: Vec<String> = c
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'crash' ORDER BY 1")
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let sum: Option<(String, Option<u64>)> = c
                .query_first(format!("CHECKSUM TABLE crash.`{t}`"))
                .unwrap();
            (t, sum.and_then(|s| s.1))
        })
        .collect()
}

/// Rows of `users` waiting in an open transaction (its own or a work table's), as a
/// READ UNCOMMITTED reader sees them.
fn rows_pending(server: &PrivateServer) -> bool {
    let mut c = server.admin();
    c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
        .unwrap();
    let tables: Vec<String> = c
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'crash'")
        .unwrap();
    tables.iter().any(|t| {
        c.query_first::<u64, _>(format!("SELECT COUNT(*) FROM crash.`{t}`"))
            .ok()
            .flatten()
            .unwrap_or(0)
            > 1_000
    })
}

// See: #30: mariadbd killed while a load streams in (plain, -j 2, --swap), while an
// export writes -o FILE, while a backup (--all -o DIR) runs and while a restore (--dir)
// loads: the tool says so in one line and exits 2; after recovery the
// database is exactly as before (every table's checksum, no work table kept by the next
// run), no file stands under the final name, and the next run succeeds.
#[test]
fn a_server_killed_mid_run_loses_nothing() {
    let wd = Workdir::new("crash");
    let mut server = PrivateServer::start(&wd.path().join("server"), "").unwrap();
    let mut admin = server.admin();
    for sql in [
        "CREATE DATABASE crash",
        "CREATE TABLE crash.users (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(60))",
        "INSERT INTO crash.users SELECT seq, CONCAT('n', seq), CONCAT('e', seq) \
         FROM crash.seq_1_to_1000",
    ] {
        admin.query_drop(sql).unwrap();
    }
    drop(admin);
    let before = checksum(&server);
    let original = wd
        .cmd("qexport")
        .args(["--url", &format!("{}crash", server.url), "users"])
        .ok()
        .stdout();
    let mut rows = String::from("id,name,email\n");
    for i in 1001..31_001 {
        writeln!(rows, "{i},n{i},e{i}@x").unwrap();
    }
    for flags in [&[][..], &["-j", "2"], &["--swap"]] {
        let url = format!("{}crash", server.url);
        let mut child = wd
            .cmd("qimport")
            .args(["--url", &url])
            .args(flags)
            .arg("users")
            .spawn();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(rows.as_bytes()).unwrap();
        stdin.flush().unwrap();
        wait_for("the load's rows to reach the server", &|| {
            rows_pending(&server)
        });
        server = crash_and_restart(server);
        // The producer pauses, its pipe open: the load, waiting on it, learns of the dead
        // server all the same, and ends.
        failed_in_one_line(child, &format!("{flags:?}"));
        drop(stdin);
        // The table as it was, whatever the killed run left beside it.
        assert_eq!(checksum(&server)[..1], before[..], "{flags:?}");
        // The next run (which drops what a killed run left) loads: the table as it was
        // (--swap loads the table's own rows; the others one row, deleted after).
        let url = format!("{}crash", server.url);
        let swap = flags.contains(&"--swap");
        let input = if swap {
            original.clone()
        } else {
            "id,name,email\n5000000,after,crash\n".to_owned()
        };
        wd.cmd("qimport")
            .args(["--url", &url])
            .args(flags)
            .args(["users"])
            .stdin(&input)
            .ok();
        server
            .admin()
            .query_drop("DELETE FROM crash.users WHERE id = 5000000")
            .unwrap();
        assert_eq!(checksum(&server), before, "{flags:?}");
    }
    let server = export_killed(&wd, server);
    let server = backup_killed(&wd, server);
    assert_eq!(checksum(&server)[..1], before[..]);
    restore_killed(&wd, server);
}

/// A restore (`--dir`), killed while its rows stream in: one line, exit 2; after recovery
/// the next restore into the same database drops what the killed one made (said once)
/// and restores the backup whole.
fn restore_killed(wd: &Workdir, mut server: PrivateServer) -> PrivateServer {
    let mut admin = server.admin();
    for sql in [
        "CREATE DATABASE crash_src",
        "CREATE TABLE crash_src.big (id INT PRIMARY KEY, s VARCHAR(50), KEY (s))",
        "INSERT INTO crash_src.big SELECT seq, CONCAT('s', seq) FROM crash_src.seq_1_to_300000",
        "CREATE VIEW crash_src.v AS SELECT COUNT(*) AS n FROM crash_src.big",
        "CREATE DATABASE crash_dst",
    ] {
        admin.query_drop(sql).unwrap();
    }
    drop(admin);
    wd.cmd("qexport")
        .args(["-q", "--url", &format!("{}crash_src", server.url)])
        .args(["--all", "-o", "rbk"])
        .ok();
    let child = wd
        .cmd("qimport")
        .args(["-q", "--url", &format!("{}crash_dst", server.url)])
        .args(["--dir", "rbk"])
        .spawn();
    wait_for("the restore's rows to reach the server", &|| {
        let mut c = server.admin();
        c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
            .unwrap();
        c.query_first::<u64, _>("SELECT COUNT(*) FROM crash_dst.big")
            .ok()
            .flatten()
            .unwrap_or(0)
            > 1_000
    });
    server = crash_and_restart(server);
    failed_in_one_line(child, "--dir");
    // The next restore names what the killed one left, and drops it when told.
    let url = format!("{}crash_dst", server.url);
    wd.cmd("qimport")
        .args(["--url", &url, "--dir", "rbk"])
        .fails(2)
        .stderr_has(&["was cut short and left the table `big`"]);
    let run = wd
        .cmd("qimport")
        .args(["--url", &url, "--dir", "rbk", "--drop-leftovers"])
        .ok();
    let err = run.stderr();
    assert!(
        err.contains("dropped what a restore into crash_dst that was killed left: 1 table"),
        "{err}"
    );
    let mut c = server.admin();
    let sum = |c: &mut mysql::Conn, db: &str| -> Option<(String, Option<u64>)> {
        c.query_first(format!("CHECKSUM TABLE {db}.big")).unwrap()
    };
    assert_eq!(
        sum(&mut c, "crash_src").unwrap().1,
        sum(&mut c, "crash_dst").unwrap().1
    );
    let tables: Vec<String> = c
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'crash_dst' ORDER BY 1")
        .unwrap();
    assert_eq!(tables, ["big", "v"]);
    drop(c);
    server
}

/// A backup (`--all -o bk`), killed while it waits at a table another session holds
/// locked: one line, exit 2, no folder or temporary folder; the next backup succeeds. The
/// server, restarted.
fn backup_killed(wd: &Workdir, mut server: PrivateServer) -> PrivateServer {
    let mut gate = server.admin();
    gate.query_drop("CREATE TABLE crash.z_gate (id INT PRIMARY KEY)")
        .unwrap();
    gate.query_drop("LOCK TABLES crash.z_gate WRITE").unwrap();
    let url = format!("{}crash", server.url);
    let child = wd
        .cmd("qexport")
        .args(["-q", "--url", &url, "--all", "-o", "bk"])
        .spawn();
    let waiting = "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                   WHERE STATE LIKE 'Waiting for table%' AND INFO LIKE '%z_gate%'";
    wait_for("the backup to wait at the gate", &|| {
        server.admin().query_first::<u64, _>(waiting).unwrap() == Some(1)
    });
    // The gate stays locked: it dies with the server.
    server = crash_and_restart(server);
    drop(gate);
    failed_in_one_line(child, "");
    let left: Vec<String> = crate::util::names(wd.path())
        .into_iter()
        .filter(|n| n.contains("bk"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let url = format!("{}crash", server.url);
    wd.cmd("qexport")
        .args(["-q", "--url", &url, "--all", "-o", "bk"])
        .ok();
    server
}

/// An export to a file, killed while its query runs (SLEEP in --where holds each row):
/// one line, exit 2, no file or temporary file; the next export succeeds. The server,
/// restarted.
fn export_killed(wd: &Workdir, mut server: PrivateServer) -> PrivateServer {
    let url = format!("{}crash", server.url);
    let mut child = wd
        .cmd("qexport")
        .args([
            "--url",
            &url,
            "-o",
            "out.csv",
            "--where",
            "SLEEP(0.01) = 0",
            "users",
        ])
        .spawn();
    let running = "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                   WHERE INFO LIKE '%SLEEP(0.01)%' AND ID <> CONNECTION_ID()";
    while server
        .admin()
        .query_first::<u64, _>(running)
        .unwrap()
        .unwrap_or(0)
        == 0
    {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            panic!("qexport ended: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    server = crash_and_restart(server);
    failed_in_one_line(child, "");
    let left: Vec<String> = crate::util::names(wd.path())
        .into_iter()
        .filter(|n| n.starts_with("out") || n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let url = format!("{}crash", server.url);
    wd.cmd("qexport")
        .args(["--url", &url, "-o", "out.csv", "users"])
        .ok();
    server
}
