//! `ktriage mcp` through a real MCP session: the binary is spawned as a child process and
//! spoken to in newline-delimited JSON-RPC on its stdin and stdout, as MCP clients do
//! (`initialize`, `notifications/initialized`, `tools/list`, `tools/call`).

use crate::support::{example_repo, ktriage};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest wait for one answer (the first call indexes the example repository).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

const TOOLS: [&str; 13] = [
    "blame",
    "callees",
    "callers",
    "def",
    "fixes",
    "grep",
    "history",
    "locate",
    "log",
    "parse_log",
    "read",
    "search",
    "show",
];

fn example_log() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/minifs/ci/discard-panic.log"
    );
    std::fs::read_to_string(path).expect("the example log")
}

/// An MCP client talking to `ktriage mcp` over its stdio.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    next_id: u64,
    stderr_path: std::path::PathBuf,
}

impl Client {
    /// Starts `ktriage mcp --repo REPO EXTRA...` and completes the handshake.
    fn start(dir: &Path, repo: &Path, extra: &[&str]) -> Client {
        let stderr_path = dir.join("mcp.stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ktriage"))
            .arg("mcp")
            .arg("--repo")
            .arg(repo)
            .args(extra)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("ktriage mcp starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut client = Client {
            child,
            stdin,
            lines,
            next_id: 1,
            stderr_path,
        };
        let initialized = client.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "ktriage-e2e", "version": "0"}}),
        );
        let result = &initialized["result"];
        assert_eq!(result["serverInfo"]["name"], "ktriage", "{initialized}");
        assert!(result["capabilities"]["tools"].is_object(), "{initialized}");
        assert!(
            result["instructions"]
                .as_str()
                .is_some_and(|text| text.contains("`at`")),
            "{initialized}"
        );
        client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        client
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{message}")
            .and_then(|()| stdin.flush())
            .expect("writing to ktriage mcp");
    }

    /// Sends a request and returns the response with its id (notifications are skipped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|err| panic!("no answer to {method} ({err}); {}", self.stderr()));
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|err| panic!("stdout is not JSON-RPC ({err}): {line}"));
            assert_eq!(message["jsonrpc"], "2.0", "{line}");
            if message["id"] == id {
                return message;
            }
        }
    }

    /// Calls a tool: (`isError`, the text of its content).
    fn call(&mut self, tool: &str, arguments: Value) -> (bool, String) {
        let response = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let result = &response["result"];
        assert!(result.is_object(), "{tool}: no result: {response}");
        let text = result["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{tool}: no text content: {response}"));
        (result["isError"] == true, text.to_string())
    }

    /// Calls a tool that must succeed and returns its text.
    fn answer(&mut self, tool: &str, arguments: Value) -> String {
        let (is_error, text) = self.call(tool, arguments);
        assert!(!is_error, "{tool} failed: {text}");
        text
    }

    /// Calls a tool that must fail and returns its message.
    fn refusal(&mut self, tool: &str, arguments: Value) -> String {
        let (is_error, text) = self.call(tool, arguments);
        assert!(is_error, "{tool} should have failed: {text}");
        text
    }

    fn stderr(&self) -> String {
        format!(
            "stderr:\n{}",
            std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
        )
    }

    /// Closes stdin, as a client ending the session does, and waits for the server to exit.
    fn finish(mut self) -> ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("waiting for ktriage mcp") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "ktriage mcp did not exit after stdin closed; {}",
            self.stderr()
        );
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn json_answer(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

#[test]
fn mcp_session_lists_every_tool_and_each_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let step = |name: &str| {
        built
            .id(name)
            .unwrap_or_else(|| panic!("step {name}"))
            .to_string()
    };
    let (before_move, bug, fix) = (
        step("03-rename-btree"),
        step("05-discard-panic"),
        step("09-fix-discard"),
    );
    let mut client = Client::start(dir.path(), &built.path, &["--quiet"]);

    let listed = client.request("tools/list", json!({}));
    let tools = listed["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools: {listed}"));
    let mut names: Vec<&str> = tools
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);
    for tool in tools {
        let schema = &tool["inputSchema"];
        assert_eq!(schema["type"], "object", "{tool}");
        assert_eq!(schema["properties"]["at"]["type"], "string", "{tool}");
        assert!(
            tool["description"]
                .as_str()
                .is_some_and(|text| !text.is_empty()),
            "{tool}"
        );
        assert_eq!(tool["annotations"]["readOnlyHint"], true, "{tool}");
    }

    let search = client.answer(
        "search",
        json!({"query": "discarded bucket no longer need_discard", "limit": 5}),
    );
    assert!(search.contains("fs/minifs/discard.c"), "{search}");

    let def = client.answer("def", json!({"name": "minifs_discard_one_bucket"}));
    assert!(
        def.starts_with("fs/minifs/discard.c:14-30\tfunction"),
        "{def}"
    );
    let def_before_move = client.answer(
        "def",
        json!({"name": "minifs_discard_one_bucket", "at": before_move}),
    );
    assert!(
        def_before_move.starts_with("fs/minifs/alloc.c:"),
        "as of a revision: {def_before_move}"
    );

    let callers = client.answer("callers", json!({"name": "bucket_is_empty"}));
    assert!(
        callers.contains("minifs_discard_one_bucket -> bucket_is_empty"),
        "{callers}"
    );
    assert!(
        callers.contains("minifs_check_buckets -> bucket_is_empty"),
        "{callers}"
    );

    let callees = client.answer("callees", json!({"name": "minifs_discard_one_bucket"}));
    assert!(
        callees.contains("fs/minifs/discard.c:19\tminifs_discard_one_bucket -> bucket_is_empty"),
        "{callees}"
    );

    let grep = client.answer("grep", json!({"pattern": "need_discard", "limit": 5}));
    assert!(
        grep.lines()
            .next()
            .is_some_and(|line| line.starts_with("fs/minifs/")),
        "{grep}"
    );

    let read = client.answer(
        "read",
        json!({"path": "fs/bcachefs/minifs/super.c", "start": 35, "end": 35}),
    );
    assert!(
        read.starts_with("fs/minifs/super.c lines 35-35"),
        "log paths resolve to the tree: {read}"
    );
    assert!(
        read.contains("int __must_check minifs_fs_start(struct minifs_fs *c)"),
        "{read}"
    );

    let log = client.answer("log", json!({"target": "fs/minifs/discard.c", "limit": 1}));
    assert!(
        log.starts_with(&fix[..12]) && log.contains("go read-only instead of panicking"),
        "{log}"
    );
    let log_at_bug = client.answer("log", json!({"target": "fs/minifs/discard.c", "at": bug}));
    assert!(
        !log_at_bug.contains(&fix[..12]),
        "a later commit is invisible as of an earlier one: {log_at_bug}"
    );

    let history = client.answer("history", json!({"function": "minifs_discard_one_bucket"}));
    assert!(
        history.contains("moved") && history.contains("minifs: initial import"),
        "{history}"
    );

    let show = client.answer("show", json!({"commit": &fix[..12]}));
    assert!(
        show.starts_with(&format!("commit {fix}"))
            && show.contains(&format!("fixes: {}", &bug[..12])),
        "{show}"
    );

    let blame = client.answer(
        "blame",
        json!({"path": "fs/minifs/discard.c", "start": 14, "end": 16}),
    );
    assert_eq!(blame.lines().count(), 3, "{blame}");
    assert!(
        blame
            .lines()
            .all(|line| line.len() > 12 && line[..12].bytes().all(|b| b.is_ascii_hexdigit())),
        "{blame}"
    );

    let fixes = client.answer("fixes", json!({"commit": bug}));
    assert!(
        fixes.contains(&format!("fixed by: {}", &fix[..12])),
        "{fixes}"
    );

    let dossier = json_answer(&client.answer("locate", json!({"text": example_log(), "at": bug})));
    assert_eq!(
        dossier["files"][0]["path"], "fs/minifs/discard.c",
        "{dossier}"
    );
    assert_eq!(
        dossier["functions"][0]["name"], "minifs_discard_one_bucket",
        "{dossier}"
    );
    assert!(
        dossier["files"][0]["why"]
            .as_array()
            .is_some_and(|why| !why.is_empty()),
        "{dossier}"
    );

    let parsed = json_answer(&client.answer("parse_log", json!({"text": example_log()})));
    let primary = &parsed["reports"][0];
    assert!(
        primary["title"]
            .as_str()
            .is_some_and(|title| title.starts_with("kernel panic: minifs: discarded bucket")),
        "{parsed}"
    );
    assert_eq!(primary["start_line"], 7, "{parsed}");
    assert!(primary["frames"].as_array().is_some_and(|frames| frames
        .iter()
        .any(|f| f["function"] == "minifs_discard_one_bucket")));

    let status = client.finish();
    assert!(status.success(), "{status}");
}

#[test]
fn mcp_bad_calls_are_error_results_and_paths_stay_in_the_tree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let mut client = Client::start(dir.path(), &built.path, &["--max-output-bytes", "2048"]);

    let missing = client.refusal("def", json!({}));
    assert!(missing.contains("missing argument `name`"), "{missing}");
    let wrong_type = client.refusal("read", json!({"path": 42}));
    assert!(
        wrong_type.contains("argument `path` must be a non-empty string"),
        "{wrong_type}"
    );
    let negative = client.refusal("parse_log", json!({"text": "x", "max_reports": -1}));
    assert!(
        negative.contains("argument `max_reports` must be a non-negative integer"),
        "{negative}"
    );
    let no_report = client.refusal("locate", json!({"text": "just words", "report": 3}));
    assert!(
        no_report.contains("no kernel report found, so there is no report 3"),
        "{no_report}"
    );
    let unknown_rev = client.refusal(
        "def",
        json!({"name": "minifs_fs_start", "at": "no-such-revision"}),
    );
    assert!(unknown_rev.contains("no-such-revision"), "{unknown_rev}");

    for (tool, arguments) in [
        ("read", json!({"path": "../../etc/passwd"})),
        ("read", json!({"path": "/etc/passwd", "start": 1, "end": 5})),
        (
            "blame",
            json!({"path": "../../etc/passwd", "start": 1, "end": 1}),
        ),
    ] {
        let refused = client.refusal(tool, arguments.clone());
        assert!(
            refused.contains("no such file"),
            "{tool} {arguments}: {refused}"
        );
        assert!(
            !refused.contains("root:"),
            "{tool} {arguments} read outside the tree: {refused}"
        );
    }

    let unknown_tool = client.request("tools/call", json!({"name": "write_file", "arguments": {}}));
    assert_eq!(unknown_tool["error"]["code"], -32602, "{unknown_tool}");
    assert!(
        unknown_tool["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown tool `write_file`")),
        "{unknown_tool}"
    );

    let long = client.answer("grep", json!({"pattern": ".", "limit": 200}));
    assert!(
        long.len() < 2048 + 200,
        "output is bounded: {} bytes",
        long.len()
    );
    assert!(long.contains("[... output cut:"), "{long}");

    let after = client.answer("def", json!({"name": "minifs_fs_start"}));
    assert!(
        after.starts_with("fs/minifs/super.c:"),
        "the session goes on after refusals: {after}"
    );
    let status = client.finish();
    assert!(status.success(), "{status}");
}

#[test]
fn a_running_session_lets_other_processes_query_the_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let repo = built.path.to_str().expect("utf-8 path");
    let indexed = ktriage(dir.path(), &["index", "--repo", repo, "--quiet"]);
    assert_eq!(indexed.code, 0, "{}", indexed.stderr);

    let mut client = Client::start(dir.path(), &built.path, &["--quiet"]);
    let def = client.answer("def", json!({"name": "minifs_discard_one_bucket"}));
    assert!(def.starts_with("fs/minifs/discard.c:14-30"), "{def}");

    // The session reads the index without locking others out.
    let out = ktriage(
        dir.path(),
        &["def", "minifs_discard_one_bucket", "--repo", repo],
    );
    assert_eq!(
        out.code, 0,
        "a query during the session failed: {}",
        out.stderr
    );
    assert!(
        out.stdout.starts_with("fs/minifs/discard.c:14-30"),
        "{}",
        out.stdout
    );

    // A revision not indexed yet: the session reopens the index for writing and answers.
    let before_move = built.id("03-rename-btree").expect("step").to_string();
    let old = client.answer(
        "def",
        json!({"name": "minifs_discard_one_bucket", "at": before_move}),
    );
    assert!(old.starts_with("fs/minifs/alloc.c:"), "{old}");
    assert!(client.finish().success());
}
