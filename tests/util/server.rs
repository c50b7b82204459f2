//! Private `mariadbd` servers started by scripts/test-db.sh: the one every DB test shares
//! (see `db`), and others with options of their own (a second sql_mode, TLS), each in its
//! own folder, with its own socket and port.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::root;

/// A private server, stopped when dropped.
pub struct PrivateServer {
    pub dir: PathBuf,
    /// `mysql://root@127.0.0.1:PORT/`
    pub url: String,
}

impl PrivateServer {
    /// Start a server in `dir` with `options` added to its command line.
    pub fn start(dir: &Path, options: &str) -> Result<PrivateServer, String> {
        let script = root().join("scripts/test-db.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(dir)
            .env("QTOOLS_DB_EXTRA", options)
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("running {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} start failed:\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(PrivateServer {
            dir: dir.to_owned(),
            url,
        })
    }

    /// Start a server that lives as long as the test process, however it ends: a
    /// watchdog whose stdin is a pipe only this process holds stops it at our exit.
    pub fn start_for_the_run(dir: &Path, options: &str) -> Result<String, String> {
        let s = PrivateServer::start(dir, options)?;
        let mut watchdog = Command::new("bash")
            .arg("-c")
            .arg("read -r _; exec bash \"$0\" stop \"$1\"")
            .arg(root().join("scripts/test-db.sh"))
            .arg(&s.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the watchdog: {e}"))?;
        std::mem::forget(watchdog.stdin.take());
        let url = s.url.clone();
        std::mem::forget(s);
        Ok(url)
    }

    /// The server's Unix socket (always secure transport, TLS or not).
    pub fn socket(&self) -> PathBuf {
        self.dir.join("mysqld.sock")
    }

    /// The TCP port of the URL.
    pub fn port(&self) -> u16 {
        mysql::Opts::from_url(&self.url).unwrap().get_tcp_port()
    }

    /// A root connection over the socket.
    pub fn admin(&self) -> mysql::Conn {
        let opts = mysql::OptsBuilder::new()
            .socket(Some(self.socket().to_string_lossy()))
            .user(Some("root"))
            .init(vec!["SET NAMES utf8mb4", "SET time_zone = '+00:00'"]);
        mysql::Conn::new(opts).unwrap_or_else(|e| panic!("root over the socket: {e}"))
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/test-db.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}
