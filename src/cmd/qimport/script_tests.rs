//! The judge of a restore's statements: what it takes and what it refuses.

use super::*;

// See: #24 (14): the DEFINER of an object, and the same made CURRENT_USER.
#[test]
fn definers_are_read_and_rewritten() {
    let v =
        "CREATE ALGORITHM=UNDEFINED DEFINER=`app`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1";
    let who = definer(v, Lexing::PLAIN).unwrap().account;
    assert_eq!(who, Some(("app".into(), Some("%".into()))));
    let r = "CREATE ALGORITHM=UNDEFINED DEFINER=`r_app` SQL SECURITY DEFINER VIEW `vr` AS select 1";
    assert_eq!(
        definer(r, Lexing::PLAIN).unwrap().account,
        Some(("r_app".into(), None))
    );
    assert_eq!(
        definer_current_user(r, Lexing::PLAIN),
        "CREATE ALGORITHM=UNDEFINED DEFINER=CURRENT_USER SQL SECURITY DEFINER VIEW `vr` AS select 1"
    );
    let no = "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1";
    assert_eq!(definer(no, Lexing::PLAIN), None);
    assert_eq!(
        definer_current_user(v, Lexing::PLAIN),
        "CREATE ALGORITHM=UNDEFINED DEFINER=CURRENT_USER SQL SECURITY DEFINER VIEW `v` AS select 1"
    );
    assert_eq!(definer("CREATE TABLE t (a int)", Lexing::PLAIN), None);
    let t = "CREATE DEFINER=CURRENT_USER() TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @a = 1";
    assert_eq!(definer(t, Lexing::PLAIN).unwrap().account, None);
    assert_eq!(
        classify(&definer_current_user(v, Lexing::PLAIN), Lexing::PLAIN),
        Ok(Stmt::Object(ObjectKind::View, "v".into()))
    );
}

// See: #23 (3): a restore runs only what creates the backup's objects.
#[test]
fn statements_are_judged_by_their_head() {
    let ok = [
        ("SET FOREIGN_KEY_CHECKS = 0", Stmt::Setting),
        ("SET NAMES utf8mb4", Stmt::Setting),
        ("SET collation_connection = 'gbk_chinese_ci'", Stmt::Setting),
        (
            "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE'",
            Stmt::Setting,
        ),
        ("CREATE TABLE `a``b` (\n  x int\n)", Stmt::Table("a`b".into())),
        (
            "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1",
            Stmt::Object(ObjectKind::View, "v".into()),
        ),
        (
            "CREATE DEFINER=`root`@`%` TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.x = 1",
            Stmt::Object(ObjectKind::Trigger, "tr".into()),
        ),
        (
            "CREATE DEFINER=`r_app` SQL SECURITY DEFINER VIEW `vr` AS select 1",
            Stmt::Object(ObjectKind::View, "vr".into()),
        ),
        (
            "CREATE DEFINER=`u`@`h` FUNCTION `f`(x INT) RETURNS int RETURN x",
            Stmt::Object(ObjectKind::Function, "f".into()),
        ),
        (
            "CREATE TABLE `g` (\n  `p` point REF_SYSTEM_ID=4326 DEFAULT NULL\n)",
            Stmt::Table("g".into()),
        ),
        (
            "CREATE SEQUENCE `s` start with 1",
            Stmt::Object(ObjectKind::Sequence, "s".into()),
        ),
        (
            "CREATE TABLE `h` (\n  `id` int(11) NOT NULL,\n  `d` date DEFAULT NULL,\n  `e` date GENERATED ALWAYS AS (`d` + interval `id` day) VIRTUAL\n) ENGINE=InnoDB WITH SYSTEM VERSIONING\n PARTITION BY SYSTEM_TIME INTERVAL 1 DAY STARTS TIMESTAMP'2026-01-01 00:00:00' AUTO PARTITIONS 2",
            Stmt::Table("h".into()),
        ),
        (
            "CREATE DEFINER=`root`@`%` EVENT `e` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO INSERT INTO t VALUES (NOW())",
            Stmt::Object(ObjectKind::Event, "e".into()),
        ),
        (
            "CREATE SEQUENCE `s` start with -5 minvalue -9223372036854775807 maxvalue 5 increment by -1 cache 1000 nocycle ENGINE=InnoDB COMMENT='a=b'",
            Stmt::Object(ObjectKind::Sequence, "s".into()),
        ),
        ("DO SETVAL(`s`, 5, 0, 0)", Stmt::SequenceState("s".into())),
        ("DO SETVAL(`s`, -5, 0, 3)", Stmt::SequenceState("s".into())),
        (
            "CREATE TABLE `c` (\n  `id` int(11) DEFAULT nextval(`sq`) CHECK (`id` > 1.5),\n  \
             `p` int GENERATED ALWAYS AS (`id` + 1) VIRTUAL,\n  CONSTRAINT `f` FOREIGN KEY (`p`) \
             REFERENCES `other`.`t` (`id`)\n) ENGINE=InnoDB COMMENT='x.y' PARTITION BY RANGE (`id`) \
             (PARTITION `p0` VALUES LESS THAN (10) ENGINE = InnoDB, PARTITION `p1` VALUES LESS THAN MAXVALUE)",
            Stmt::Table("c".into()),
        ),
    ];
    for (sql, want) in ok {
        assert_eq!(classify(sql, Lexing::PLAIN), Ok(want), "{sql}");
    }
}

// See: #23 (hostile review, round 8): a view's qualified call names the database it
// calls into, which the judge holds to the target.
#[test]
fn a_view_says_whose_functions_it_calls() {
    let v = "CREATE VIEW v AS SELECT ('a' like 'b' escape `other`.`f`()) AS y, `t`.`c` FROM t";
    assert_eq!(
        needs(v, Lexing::PLAIN),
        Ok(vec![Need::CallsInto("other".into())])
    );
}

// See: #23 (3) and its hostile reviews: everything else is refused.
#[test]
fn statements_a_backup_does_not_hold_are_refused() {
    for bad in [
        "DROP TABLE other_db.t",
        "DROP TABLE t",
        "INSERT INTO t VALUES (1)",
        "SET GLOBAL max_connections = 1",
        "SET SESSION sql_mode = (SELECT f())",
        "SET SESSION sql_mode = 1048576",
        "SET SESSION sql_mode = DEFAULT",
        "SET NAMES gbk",
        "SET NAMES 'big5'",
        "SET character_set_client = sjis",
        "SET NAMES latin1",
        "SET @x = 1",
        "CREATE TABLE other.t (a int)",
        "CREATE TABLE t LIKE other.t",
        "CREATE TABLE t AS SELECT * FROM other.t",
        "CREATE TABLE t (a int) SELECT a FROM other.t",
        "CREATE TABLE t (a int) ENGINE=MERGE UNION=(`other`.`t`)",
        "CREATE TABLE t (a int DEFAULT nextval(`other`.`sq`))",
        "CREATE TABLE t (a int) (SELECT f() AS a)",
        "CREATE TABLE t (a int) (SELECT 1 AS a FROM DUAL WHERE f() = 0)",
        "CREATE TABLE t (a int) VALUES (f())",
        "CREATE TABLE t (a int) (VALUES (1))",
        "CREATE TABLE t (a int) ENGINE=InnoDB DATA DIRECTORY='/tmp/x'",
        "CREATE TABLE t (a int) ENGINE=MyISAM INDEX DIRECTORY='/tmp/x'",
        "CREATE TABLE t (a int) PARTITION BY HASH (a) (PARTITION p0 DATA DIRECTORY = '/tmp/x')",
        "CREATE DEFINER=`root`@`%` TRIGGER `db`.`tr` BEFORE INSERT ON `t` FOR EACH ROW SET @a = 1",
        "CREATE TRIGGER tr BEFORE INSERT ON `db`.`t` FOR EACH ROW SET @a = 1",
        "CREATE USER x",
        "CREATE DATABASE x",
        "/*!50001 CREATE TABLE t (a int) */",
        "GRANT ALL ON *.* TO x",
        "DO SLEEP(1)",
        "CREATE FUNCTION sphinx_snippets RETURNS STRING SONAME 'ha_sphinx.so'",
        "CREATE AGGREGATE FUNCTION f RETURNS INTEGER SONAME 'x.so'",
        // See: #23 (hostile review, round 4).
        "CREATE OR REPLACE ALGORITHM = /*M!999999 VIEW zz */ UNDEFINED VIEW victim.vv AS SELECT 1",
        "CREATE ALGORITHM = /*M!999999 VIEW zz */ UNDEFINED VIEW vv AS SELECT 1",
        "CREATE DEFINER = /*M!999999 @ x PROCEDURE zp ( */ `root`@`h` PROCEDURE victim.vp() SELECT 1",
        "CREATE OR REPLACE VIEW v AS SELECT 1",
        "CREATE VIEW IF NOT EXISTS v AS SELECT 1",
        "CREATE SEQUENCE IF NOT EXISTS s",
        "CREATE TEMPORARY TABLE t (a int)",
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW FOLLOWS other SET @a = 1",
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW PRECEDES other SET @a = 1",
        "CREATE TABLE t (a bigint DEFAULT nextval(9db.s9))",
        "CREATE TABLE t (a bigint DEFAULT nextval(/*M!999999 REFERENCES */ victim.vs))",
        "CREATE TABLE t (a int) ENGINE=MyISAM UNION=(victim.1234)",
        "SET SESSION `sql_mode` = 'NO_BACKSLASH_ESCAPES'",
        "CREATE VIEW v AS SELECT /*!99999 1 */ 2",
        "CREATE EVENT e DO SELECT 1",
        // See: #23 (hostile review, round 8).
        "CREATE TABLE t (id int) WITH SYSTEM VERSIONING PARTITION BY SYSTEM_TIME INTERVAL 1 + CONV(HEX(SUBSTR(`LOAD_FILE`('/etc/passwd'),1,3)),16,10) SECOND PARTITIONS 2",
        "CREATE TABLE t (id int DEFAULT (`SLEEP`(1)))",
        "CREATE VIEW v AS SELECT ('a' like 'b' escape `LOAD_FILE`('/x')) AS y",
        "CREATE VIEW `v ` AS SELECT 1",
        "CREATE TABLE `` (a int)",
        // See: #23 (hostile review, round 7).
        "SET foreign_key_checks = 'x\\' IS NULL, GLOBAL init_connect = \"x\" #'",
        "CREATE TABLE t (id int) WITH SYSTEM VERSIONING PARTITION BY SYSTEM_TIME INTERVAL (CONV(HEX(SUBSTR(LOAD_FILE('/etc/passwd'),1,3)),16,10)) SECOND PARTITIONS 3",
        "CREATE TABLE t (id int DEFAULT (SLEEP(1)))",
        "CREATE DEFINER=app@'%' EVENT leak ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01' + INTERVAL CONV(HEX(SUBSTR(LOAD_FILE('/etc/passwd'),1,3)),16,10) SECOND DISABLE DO SELECT 1",
        "CREATE EVENT e ON SCHEDULE EVERY @x DAY DO SELECT 1",
        // See: #23 (hostile review, round 6).
        "CREATE TABLE t (a int) ENGINE=InnoDB AVG_ROW_LENGTH=1e1SELECT 100 a",
        "CREATE TABLE t (a int) ENGINE=InnoDB AVG_ROW_LENGTH=.5SELECT 100 a",
        "CREATE TABLE t (a int) ENGINE=InnoDB AVG_ROW_LENGTH=1e+1SELECT 100 a",
        "SET SESSION sql_mode = 'MSSQL'",
        "SET SESSION sql_mode = 'ANSI_QUOTES,mssql'",
        "CREATE DEFINER=app@ TRIGGER VIEW BEFORE INSERT ON orders FOR EACH ROW SET @a = 1",
        "CREATE DEFINER=app@ EVENT VIEW ON SCHEDULE EVERY 1 SECOND DO SELECT 1",
        "CREATE DEFINER=app @h VIEW v AS SELECT 1",
        "CREATE SEQUENCE s ENGINE=InnoDB DATA DIRECTORY='/tmp'",
        "CREATE SEQUENCE s ENGINE=FEDERATED CONNECTION='mysql://root@127.0.0.1/victim/vs'",
        "CREATE SEQUENCE s (`next_not_cached_value` bigint)",
        // See: #23 (hostile review, round 5).
        "CREATE TABLE t (a int) ENGINE=InnoDB AVG_ROW_LENGTH=1.SELECT f() a",
        "CREATE TABLE t (a int)\0 SELECT 1",
        "CREATE TABLE t (a int) -\x0b- x",
        "CREATE TABLE t (a bigint DEFAULT nextval(1e.s))",
        "CREATE TABLE m (x int) ENGINE=MRG_MyISAM UNION=(1e.secret)",
        "DO SETVAL(`s`, 1, 0, 0), SETVAL(`other`.`vs`, 1000000, 0, 0)",
        "DO SETVAL(`s`, 5, 0, 0), f()",
        "DO SETVAL(`other`.`s`, 5, 0, 0)",
        "DO SETVAL(`s`, f(), 0, 0)",
        "DO SETVAL(`s`, 1.5, 0, 0)",
        "SELECT 1",
    ] {
        assert!(classify(bad, Lexing::PLAIN).is_err(), "{bad}");
    }
}
