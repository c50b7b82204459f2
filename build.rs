//! Records the git commit the binaries are built from, for `--version` (`qexport 0.1.0
//! (abc1234)`, `+changes` when the sources differ from it); `unknown` when the source is
//! not a git checkout (a crate tarball).
//!
//! It reruns only when what it prints can change: HEAD moves (a commit, a checkout) or a
//! source of the binaries changes. Not on `.git/index`, which any `git status` rewrites
//! (so a build right after another, of the same commit, rebuilt everything). See: #25.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        // Never write the index (a plain `git status` refreshes it).
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"])
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let suffix = if dirty { "+changes" } else { "" };
    println!("cargo:rustc-env=QTOOLS_COMMIT={commit}{suffix}");
    for path in ["build.rs", "Cargo.toml", "Cargo.lock", "src", "crates"] {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Some(dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) {
        let mut watch = vec![dir.join("HEAD"), dir.join("packed-refs")];
        watch.extend(git(&["symbolic-ref", "-q", "HEAD"]).map(|r| dir.join(r)));
        // A path that does not exist would rerun this on every build.
        for path in watch.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
