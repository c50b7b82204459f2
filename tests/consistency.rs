//! Exports and backups under writes (issue #30): a writer moves money between accounts in
//! a loop of transactions (the total stays constant) and counts each move in a second
//! table; every kind of export that promises one instant shows the constant total, a
//! backup shows as many ledger rows as its counter says, and so does its restore.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use mysql::prelude::Queryable as _;

use crate::util::db::TestDb;
use crate::util::Workdir;

const ACCOUNTS: u64 = 2_000;
const TOTAL: i64 = 200_000; // 100 in each account

/// The sum of column `col` of a CSV with a header.
fn sum(csv: &str, col: usize) -> i64 {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse::<i64>().unwrap())
        .sum()
}

/// The writer: transfers until `stop`, counted in `moves`.
fn writer(
    db: &TestDb,
    stop: Arc<AtomicBool>,
    moves: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    let mut c = db.conn();
    std::thread::spawn(move || {
        let mut n: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let (from, to) = (n * 7919 % ACCOUNTS + 1, n * 104_729 % ACCOUNTS + 1);
            let amount = n % 50 + 1;
            let mut tx = c.start_transaction(mysql::TxOpts::default()).unwrap();
            tx.exec_drop(
                "UPDATE accounts SET balance = balance - ? WHERE id = ?",
                (amount, from),
            )
            .unwrap();
            tx.exec_drop(
                "UPDATE accounts SET balance = balance + ? WHERE id = ?",
                (amount, to),
            )
            .unwrap();
            tx.exec_drop("INSERT INTO ledger (amount) VALUES (?)", (amount,))
                .unwrap();
            tx.query_drop("UPDATE counter SET n = n + 1").unwrap();
            tx.commit().unwrap();
            moves.fetch_add(1, Ordering::Relaxed);
        }
    })
}

// See: #30: `qexport t` (one snapshot), `-j 2 --consistent`, `--all -o` alone and with
// `-j 2 --consistent`, and the restore of each backup: the total is the constant and the ledger holds
// as many moves as the counter, while a writer commits transfers all along.
#[test]
fn exports_and_backups_are_one_instant_under_writes() {
    let wd = Workdir::new("consistency");
    let db = TestDb::new("consistency");
    db.exec(&format!(
        "CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL);
         INSERT INTO accounts SELECT seq, 100 FROM seq_1_to_{ACCOUNTS};
         CREATE TABLE ledger (id INT AUTO_INCREMENT PRIMARY KEY, amount INT NOT NULL);
         CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter VALUES (0);"
    ));
    let (stop, moves) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let w = writer(&db, stop.clone(), moves.clone());
    crate::util::wait_for("the writer's first moves", &|| {
        moves.load(Ordering::Relaxed) > 10
    });
    for flags in [&[][..], &["-j", "2", "--consistent"]] {
        for _ in 0..3 {
            let before = moves.load(Ordering::Relaxed);
            let csv = wd
                .cmd("qexport")
                .args(["--url", &db.url])
                .args(flags)
                .arg("accounts")
                .ok()
                .stdout();
            assert_eq!(csv.lines().count() as u64, ACCOUNTS + 1);
            assert_eq!(sum(&csv, 1), TOTAL, "{flags:?}");
            assert!(moves.load(Ordering::Relaxed) >= before);
        }
    }
    for (i, flags) in [&[][..], &["-j", "2", "--consistent"]].iter().enumerate() {
        let bk = format!("bk{i}");
        wd.cmd("qexport")
            .args(["-q", "--url", &db.url, "--all", "-o", &bk])
            .args(*flags)
            .ok();
        let read = |t: &str| std::fs::read_to_string(wd.path().join(&bk).join(t)).unwrap();
        assert_eq!(sum(&read("accounts.csv"), 1), TOTAL, "{flags:?}");
        let counted = sum(&read("counter.csv"), 0);
        let ledger = i64::try_from(read("ledger.csv").lines().count()).unwrap() - 1;
        assert_eq!(ledger, counted, "{flags:?}");
        // Its restore holds the same instant.
        let target = TestDb::new(&format!("consistency_rst{i}"));
        wd.cmd("qimport")
            .args(["-q", "--url", &target.url, "--dir", &bk])
            .ok();
        let restored: Vec<(i64, i64, i64)> = target.query(
            "SELECT (SELECT SUM(balance) FROM accounts), (SELECT COUNT(*) FROM ledger), \
             (SELECT n FROM counter)",
        );
        assert_eq!(restored, vec![(TOTAL, counted, counted)], "{flags:?}");
    }
    stop.store(true, Ordering::Relaxed);
    w.join().unwrap();
    assert!(moves.load(Ordering::Relaxed) > 10);
    let mut c = db.conn();
    let now: Option<i64> = c.query_first("SELECT SUM(balance) FROM accounts").unwrap();
    assert_eq!(now, Some(TOTAL));
}
