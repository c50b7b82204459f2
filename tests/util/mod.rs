//! Test helpers: a work directory per test, a fluent command runner for the real
//! binaries, and the private database server (see `db`); the tables several test files
//! start from (`setup`), and the backups they take and tamper with (`backup`).

pub mod backup;
pub mod db;
pub mod fake;
pub mod proxy;
pub mod server;
pub mod setup;
pub mod tls;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The project root (for fixtures/ and scripts/).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// A fresh directory for one test; it also serves as `$HOME` of the commands run in it,
/// so no user's `~/.my.cnf` leaks in.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new(name: &str) -> Workdir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-{n}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("creating a work directory");
        Workdir { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write a file in the work directory and return its path.
    pub fn create(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("writing a test file");
        p
    }

    /// Run one of the project's binaries in this directory.
    pub fn cmd(&self, bin: &str) -> TestCmd {
        let exe = match bin {
            "qexport" => env!("CARGO_BIN_EXE_qexport"),
            "qimport" => env!("CARGO_BIN_EXE_qimport"),
            "qgrep" => env!("CARGO_BIN_EXE_qgrep"),
            "qcount" => env!("CARGO_BIN_EXE_qcount"),
            other => panic!("unknown binary {other}"),
        };
        let mut c = Command::new(exe);
        isolate(&mut c, self.path());
        TestCmd {
            cmd: c,
            stdin: None,
        }
    }

    /// Run a shell pipeline with the binaries first on PATH.
    pub fn sh(&self, script: &str) -> TestCmd {
        let mut c = Command::new("bash");
        c.arg("-o").arg("pipefail").arg("-c").arg(script);
        isolate(&mut c, self.path());
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_qexport")).parent().unwrap();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin_dir.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        c.env("PATH", std::env::join_paths(paths).unwrap());
        TestCmd {
            cmd: c,
            stdin: None,
        }
    }
}

fn isolate(c: &mut Command, dir: &Path) {
    c.current_dir(dir).env("HOME", dir);
    for v in [
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_PWD",
        "MYSQL_UNIX_PORT",
    ] {
        c.env_remove(v);
    }
}

/// The names of the entries of `dir` (what a run left there).
pub fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect()
}

/// The passwords the tests give the tools: no tool's output (stdout or stderr, of any
/// run of the suite) may show one (#30).
static SECRETS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Watch for `password` in every output from now on (one of at least 6 characters: a
/// shorter one could be data).
pub fn secret(password: &str) {
    assert!(
        password.len() >= 6,
        "a test password of 6 characters or more"
    );
    let mut s = SECRETS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !s.iter().any(|p| p == password) {
        s.push(password.to_owned());
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A command under test, with a failure message that shows everything.
pub struct TestCmd {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

/// What a finished command did.
pub struct Run {
    pub desc: String,
    pub out: Output,
}

impl TestCmd {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    pub fn stdin(mut self, data: impl AsRef<[u8]>) -> Self {
        self.stdin = Some(data.as_ref().to_vec());
        self
    }

    /// Start the command and return at once: stdin a pipe the test writes to, stderr a
    /// pipe (read it with `wait_with_output`), stdout discarded. SIGHUP, SIGINT and SIGTERM
    /// start with their default action whatever the test run inherited (a shell without
    /// job control starts background commands with SIGINT ignored), by way of coreutils'
    /// `env --default-signal`.
    pub fn spawn(self) -> std::process::Child {
        self.spawn_ignoring(&[])
    }

    /// As [`TestCmd::spawn`], with the signals `ignored` (`INT`, ...) ignored from the
    /// start, as `nohup` ignores `HUP`.
    pub fn spawn_ignoring(self, ignored: &[&str]) -> std::process::Child {
        self.spawn_with(ignored, Stdio::null())
    }

    /// As [`TestCmd::spawn`], with stdout a pipe the test reads (or leaves unread, to
    /// hold the command in its writes).
    pub fn spawn_piped(self) -> std::process::Child {
        self.spawn_with(&[], Stdio::piped())
    }

    fn spawn_with(self, ignored: &[&str], stdout: Stdio) -> std::process::Child {
        let default: Vec<&str> = ["HUP", "INT", "TERM"]
            .into_iter()
            .filter(|s| !ignored.contains(s))
            .collect();
        let mut c = Command::new("env");
        c.arg(format!("--default-signal={}", default.join(",")));
        if !ignored.is_empty() {
            c.arg(format!("--ignore-signal={}", ignored.join(",")));
        }
        c.arg(self.cmd.get_program()).args(self.cmd.get_args());
        for (k, v) in self.cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = self.cmd.get_current_dir() {
            c.current_dir(d);
        }
        c.stdin(Stdio::piped())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the command")
    }

    pub fn run(mut self) -> Run {
        let desc = format!("{:?}", self.cmd);
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {desc}: {e}"));
        if let Some(data) = self.stdin.take() {
            let mut sin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = sin.write_all(&data);
            });
        }
        let out = child.wait_with_output().expect("waiting for the command");
        let run = Run { desc, out };
        let secrets = SECRETS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for secret in &secrets {
            assert!(
                !contains(&run.out.stdout, secret) && !contains(&run.out.stderr, secret),
                "a test password shows in the output\n{}",
                run.report()
            );
        }
        run
    }

    /// Run and expect exit status 0.
    pub fn ok(self) -> Run {
        self.run().status(0)
    }

    /// Run and expect this exit status.
    pub fn fails(self, code: i32) -> Run {
        self.run().status(code)
    }
}

impl Run {
    pub fn status(self, code: i32) -> Run {
        assert_eq!(self.out.status.code(), Some(code), "{}", self.report());
        self
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// Assert stdout equals `want`; on a difference, say first where (a short message, so
    /// that a CI log that keeps only the ends of the output still shows it).
    pub fn stdout_is(self, want: &str) -> Run {
        let got = self.stdout();
        if got != want {
            let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
            let at = g.iter().zip(&w).take_while(|(a, b)| a == b).count();
            panic!(
                "stdout differs at line {} of {} (want {} lines, {} bytes; got {} bytes)\n\
                 got:  {:?}\nwant: {:?}\ncommand: {}\nstatus: {:?}\n--- stderr ---\n{}",
                at + 1,
                g.len(),
                w.len(),
                want.len(),
                got.len(),
                g.get(at),
                w.get(at),
                self.desc,
                self.out.status,
                self.stderr()
            );
        }
        self
    }

    /// Assert stdout equals `want`, byte for byte.
    pub fn stdout_is_bytes(self, want: &[u8]) -> Run {
        assert_eq!(self.out.stdout, want, "{}", self.report());
        self
    }

    /// Assert stderr contains every one of `parts`.
    pub fn stderr_has(self, parts: &[&str]) -> Run {
        let err = self.stderr();
        for p in parts {
            assert!(err.contains(p), "stderr lacks {p:?}\n{}", self.report());
        }
        self
    }

    pub fn stderr_empty(self) -> Run {
        assert!(
            self.out.stderr.is_empty(),
            "stderr not empty\n{}",
            self.report()
        );
        self
    }

    pub fn report(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.desc,
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }
}

/// Send `signal` (`INT`, `TERM`, `HUP`) to a running command.
pub fn send(child: &std::process::Child, signal: &str) {
    let sent = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(sent.success(), "kill -s {signal} failed");
}

/// Send `signal` (`INT` is Ctrl-C, `TERM` what `kill` and `timeout` send) to a running
/// command, expect it to end by that very signal (so that a shell or a cron wrapper sees
/// 130 or 143), and return its stderr.
pub fn interrupt(child: std::process::Child, signal: &str) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    send(&child, signal);
    let out = child.wait_with_output().expect("waiting for the command");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let number = match signal {
        "INT" => 2,
        "TERM" => 15,
        "HUP" => 1,
        other => panic!("unknown signal {other}"),
    };
    assert_eq!(
        out.status.signal(),
        Some(number),
        "expected an end by SIG{signal}, got {:?}; stderr: {err}",
        out.status
    );
    err
}

/// A backup folder's manifest.json.
pub fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(dir.join("manifest.json")).expect("reading manifest.json"),
    )
    .expect("a manifest")
}

/// Wait for `done`, looking every 10 ms. The limit (120 s) only ends a test that would
/// otherwise hang: no test's success depends on how long anything takes. See: #23 (0).
pub fn wait_for(what: &str, done: &dyn Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited 120 s for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
