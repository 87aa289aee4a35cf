//! The `pingxuan` command as an operator runs it: real process, real data folder.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;

fn pingxuan(data: &Path, db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingxuan"))
        .args(args)
        .env("PINGXUAN_DATA_DIR", data)
        .env("PINGXUAN_DATABASE_URL", &db.url)
        .env("PINGXUAN_LOG", "warn")
        .output()
        .expect("run pingxuan")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn campaign_file(name: &str) -> String {
    format!("{}/../../campaigns/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn campaign_check_reports_lines_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    let src = std::fs::read_to_string(campaign_file("guangxi-2024.toml")).unwrap();
    std::fs::write(&broken, src.replacen("winners = 10", "winners = 12", 1)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
        .args(["campaign", "check", broken.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(
        out.contains("最后一个阶段的晋级人数 10 与最终评选人数 12 不一致"),
        "{out}"
    );
    for seed in [
        "guangxi-2024.toml",
        "dongguan-2023.toml",
        "xinjiang-2023.toml",
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
            .args(["campaign", "check", &campaign_file(seed)])
            .output()
            .unwrap();
        assert!(o.status.success(), "{seed}: {}", text(&o));
    }
}

/// The command line as an operator meets it (issue 16): every option described with no
/// stray `=` or empty default; a log that is a file gets no colour codes; a bad address to
/// listen on fails before the data folder is made.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// `pingxuan vote verify` offline: a counted vote passes (0); a proof naming another
/// candidate or a result with a tally moved fails at its step (1); a file that is not a
/// proof is malformed (2).
#[test]
fn vote_verify_checks_a_proof_offline() {
    use pingxuan_rules::vote::merkle::{Proof, Published, Tally, Tree, leaf_hash};
    let votes = [
        ("public", 1, "AAAA00000001"),
        ("public", 1, "AAAA00000002"),
        ("public", 2, "AAAA00000003"),
        ("public", 2, "AAAA00000004"),
        ("public", 2, "AAAA00000005"),
    ];
    let tree = Tree::build(votes.iter().map(|(g, c, r)| leaf_hash(g, *c, r)).collect());
    let root = tree.root();
    let result = Published {
        campaign: "dongguan-2023".into(),
        stage: "online_vote".into(),
        root: root.hex(),
        total: root.count,
        tallies: vec![
            Tally {
                group: "public".into(),
                candidate: 1,
                count: 2,
                number: None,
                name: None,
            },
            Tally {
                group: "public".into(),
                candidate: 2,
                count: 3,
                number: Some(2),
                name: Some("李四".into()),
            },
        ],
    };
    let proof = Proof {
        campaign: "dongguan-2023".into(),
        stage: "online_vote".into(),
        group: "public".into(),
        candidate: 2,
        receipt: "AAAA00000004".into(),
        path: tree.proof(3).unwrap(),
    };
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, json: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, json).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let verify = |p: &str, r: &str| {
        Command::new(env!("CARGO_BIN_EXE_pingxuan"))
            .args(["vote", "verify", "--proof", p, "--result", r])
            .output()
            .unwrap()
    };
    let (p, r) = (
        write("P.json", json(&proof)),
        write("R.json", json(&result)),
    );
    let o = verify(&p, &r);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("已计入：回执 AAAA00000004"),
        "{}",
        text(&o)
    );
    // The file's labels name the candidate; the root fixes it by id.
    assert!(text(&o).contains("02 号 李四（编号 2）"), "{}", text(&o));

    let mut other = proof.clone();
    other.candidate = 1;
    let o = verify(&write("other.json", json(&other)), &r);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("校验未通过：第 4 步"), "{}", text(&o));

    let mut moved = result.clone();
    moved.tallies[0].count = 4;
    moved.tallies[1].count = 1;
    let o = verify(&p, &write("moved.json", json(&moved)));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("第 6 步：这一票位于第 4 位"),
        "{}",
        text(&o)
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"campaign\": 1}").unwrap();
    let o = verify(bad.to_str().unwrap(), &r);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("回执证明文件"), "{}", text(&o));
    assert!(text(&o).contains("格式有误"), "{}", text(&o));
}

#[test]
fn help_logs_and_a_bad_listen_address() {
    let chinese = |l: &str| l.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for command in [
        &["serve"][..],
        &["user", "add"],
        &["units", "import"],
        &["experts", "import"],
        &["token", "create"],
        &["campaign", "load"],
        &["calendar", "load"],
        &["audit", "export"],
        &["audit", "verify"],
        &["demo"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
            .args(command)
            .arg("--help")
            .output()
            .unwrap();
        let help = text(&o);
        assert!(o.status.success(), "{help}");
        assert!(
            !help.contains("=]"),
            "no stray '=' after a variable: {help}"
        );
        assert!(
            !help.contains("[default: \"\"]"),
            "no empty default: {help}"
        );
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("--") {
                let next = lines.get(i + 1).copied().unwrap_or("");
                assert!(
                    chinese(line) || chinese(next),
                    "{command:?}: {} is described in Chinese",
                    line.trim()
                );
            }
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
        .args(["serve", "--listen", "not-an-address"])
        .env("PINGXUAN_DATA_DIR", &data)
        .env("PINGXUAN_BOGUS", "1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let said = text(&o);
    assert!(said.contains("无法监听 not-an-address"), "{said}");
    assert!(
        !data.exists(),
        "nothing written for a server that cannot start"
    );
    assert!(
        said.contains("unknown PINGXUAN_ variable ignored"),
        "the log is there: {said}"
    );
    assert!(
        !said.contains('\u{1b}'),
        "no colour codes in a log that is not a terminal: {said:?}"
    );
}

on_both_databases!(operator_workflow, audit_export_and_verify);

async fn operator_workflow(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let o = pingxuan(data, &db, &["demo"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("admin") && out.contains("gx-nanning") && out.contains("xinjiang-2023"),
        "{out}"
    );
    assert!(
        out.contains("的推荐单位提交截止时间顺延至"),
        "past deadlines are pushed back in the demo: {out}"
    );
    // Again: no duplicates, new passwords, no second extension.
    let again = pingxuan(data, &db, &["demo"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(!text(&again).contains("顺延至"), "{}", text(&again));

    let csv = data.join("units.csv");
    std::fs::write(
        &csv,
        "单位名称,单位类型,类别,登录名,联系人,电子邮箱,手机\n柳州市科协,推荐单位,设区市,gx-liuzhou,王老师,lz@example.com,13900000001\n广西医科大学,所在单位,,gx-gxmu,,,\n",
    )
    .unwrap();
    let o = pingxuan(
        data,
        &db,
        &[
            "units",
            "import",
            "--campaign",
            "guangxi-2024",
            csv.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("柳州市科协,推荐单位,gx-liuzhou,"));
    // Importing the same file again creates nothing and says why.
    let o = pingxuan(
        data,
        &db,
        &[
            "units",
            "import",
            "--campaign",
            "guangxi-2024",
            csv.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("登录名“gx-liuzhou”已被使用"),
        "{}",
        text(&o)
    );

    // The expert pool: a list with an unknown column imports nothing and names it; the
    // right list creates every expert with a password shown once; again, nothing.
    let experts = data.join("experts.csv");
    std::fs::write(
        &experts,
        "姓名,工作单位,学科/专业领域,电子邮箱,手机,职称\n王专家,广西大学,化学,wang@example.com,,教授\n",
    )
    .unwrap();
    let import = |file: &std::path::Path| {
        pingxuan(
            data,
            &db,
            &[
                "experts",
                "import",
                "--campaign",
                "guangxi-2024",
                file.to_str().unwrap(),
            ],
        )
    };
    let o = import(&experts);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("第 1 行有未知的列“职称”"), "{}", text(&o));
    std::fs::write(
        &experts,
        "姓名,工作单位,学科/专业领域,电子邮箱,手机\n王专家,广西大学,化学、材料,wang@example.com,13900000009\n李专家,广西医科大学,临床医学,li@example.com,\n",
    )
    .unwrap();
    let o = import(&experts);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("王专家,广西大学,wang@example.com,"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("已导入 2 位评审专家"), "{}", text(&o));
    let o = import(&experts);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("第 2 行：电子邮箱“wang@example.com”已有账号"),
        "{}",
        text(&o)
    );

    let o = pingxuan(
        data,
        &db,
        &[
            "user",
            "add",
            "--login",
            "gx-expert",
            "--name",
            "专家",
            "--role",
            "评审专家",
            "--campaign",
            "guangxi-2024",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("初始密码："));
    let o = pingxuan(
        data,
        &db,
        &[
            "user",
            "add",
            "--login",
            "gx-expert",
            "--name",
            "专家",
            "--role",
            "expert",
            "--campaign",
            "guangxi-2024",
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("已存在"), "{}", text(&o));
    let o = pingxuan(
        data,
        &db,
        &[
            "user", "add", "--login", "x", "--name", "x", "--role", "boss",
        ],
    );
    assert!(text(&o).contains("未知的角色 `boss`"), "{}", text(&o));
    let o = pingxuan(
        data,
        &db,
        &[
            "user",
            "add",
            "--login",
            "weak",
            "--name",
            "x",
            "--role",
            "admin",
            "--password",
            "123",
        ],
    );
    assert!(text(&o).contains("密码至少 8 位"), "{}", text(&o));
    let o = pingxuan(data, &db, &["token", "create", "gx-expert"]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("pxt_"));

    // The server starts on the existing database and answers /healthz.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("PINGXUAN_DATA_DIR", data)
        .env("PINGXUAN_DATABASE_URL", &db.url)
        .env("PINGXUAN_LOG", "warn")
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..200 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status() == 200
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(healthy, "server did not become healthy");
}

/// `audit export` writes the chain the demo left; `audit verify` passes it, checks it
/// against the published head, and names the first line of every kind of tampering.
async fn audit_export_and_verify(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let o = pingxuan(data, &db, &["demo"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = data.join("audit.jsonl");
    let o = pingxuan(
        data,
        &db,
        &["audit", "export", "--out", file.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    let head = said.rsplit("链末端哈希 ").next().unwrap().trim().to_owned();
    assert_eq!(head.len(), 64, "{said}");
    let lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines.len() >= 5, "the demo's accounts are in the trail");
    assert!(
        said.contains(&format!("已导出 {} 条", lines.len())),
        "{said}"
    );
    let entry: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    for key in [
        "action", "at", "detail", "ip", "prev", "target", "user", "hash",
    ] {
        assert!(entry.get(key).is_some(), "{key} in {entry}");
    }

    let verify = |lines: &[String], head: Option<&str>| {
        let f = data.join("check.jsonl");
        std::fs::write(&f, lines.join("\n") + "\n").unwrap();
        let mut args = vec!["audit", "verify", f.to_str().unwrap()];
        if let Some(h) = head {
            args.extend(["--head", h]);
        }
        // Verifying needs no database.
        let o = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
            .args(&args)
            .env(
                "PINGXUAN_DATABASE_URL",
                "postgres://nobody@127.0.0.1:1/none",
            )
            .output()
            .unwrap();
        (o.status.code(), text(&o))
    };
    let (code, out) = verify(&lines, Some(&head));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("校验通过：{} 条审计记录", lines.len())),
        "{out}"
    );

    // Edited: the detail of the second entry.
    let mut edited = lines.clone();
    let mut e: serde_json::Value = serde_json::from_str(&edited[1]).unwrap();
    e["detail"] = "篡改过的详情".into();
    edited[1] = e.to_string();
    let (code, out) = verify(&edited, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("第 2 行的内容与其哈希不符"), "{out}");
    // Deleted, reordered, inserted.
    let mut deleted = lines.clone();
    deleted.remove(2);
    let (code, out) = verify(&deleted, None);
    assert_eq!(code, Some(1));
    assert!(out.contains("第 3 行的前一哈希与上一条记录不符"), "{out}");
    let mut swapped = lines.clone();
    swapped.swap(1, 2);
    let (code, out) = verify(&swapped, None);
    assert_eq!(code, Some(1));
    assert!(out.contains("第 2 行的前一哈希"), "{out}");
    let mut inserted = lines.clone();
    inserted.insert(3, lines[2].clone());
    let (code, out) = verify(&inserted, None);
    assert_eq!(code, Some(1));
    assert!(out.contains("第 4 行的前一哈希"), "{out}");
    // The last entry removed: only the published head shows it.
    let mut cut = lines.clone();
    cut.pop();
    assert_eq!(verify(&cut, None).0, Some(0));
    let (code, out) = verify(&cut, Some(&head));
    assert_eq!(code, Some(1));
    assert!(out.contains("链的末端"), "{out}");
    // Not an export at all.
    let (code, out) = verify(&["不是 JSON".to_owned()], None);
    assert_eq!(code, Some(1));
    assert!(out.contains("第 1 行不是有效的审计记录"), "{out}");
}
