//! Helpers: run the built binary and build example repositories.

use crate::fake_server::FakeServer;
use std::path::Path;
use std::process::{Command, Output as ProcessOutput};

/// What one run of the binary printed.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Parses stdout as JSON, failing the test with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not JSON ({err}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `ktriage ARGS` with `cwd` as the working directory and no model in the environment.
pub fn ktriage(cwd: &Path, args: &[&str]) -> Output {
    let (code, stdout, stderr) = run(&mut command(cwd, args, None));
    Output {
        code,
        stdout,
        stderr,
    }
}

/// `ktriage ARGS | head` where the reader has gone before anything is written: the exit
/// code and stderr.
pub fn ktriage_into_closed_pipe(cwd: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = command(cwd, args, None)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the ktriage binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ktriage ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Builds the bundled example repository under `dir/repo`.
pub fn example_repo(dir: &Path) -> ktriage_example::BuiltRepo {
    ktriage_example::build_repo(&ktriage_example::bundled_history(), &dir.join("repo"))
        .expect("example builds")
}

/// The API key the fake model server is given; it must never appear in any file written.
pub const API_KEY: &str = "sk-e2e-KEY-0042-never-written";

/// `ktriage ARGS` with no model in the environment, or with the fake server's.
pub fn command(cwd: &Path, args: &[&str], server: Option<&FakeServer>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ktriage"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("KTRIAGE_MODEL")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY");
    if let Some(server) = server {
        command
            .env("OPENAI_BASE_URL", &server.base_url)
            .env("OPENAI_API_KEY", API_KEY)
            .env("KTRIAGE_MODEL", "fake-model");
    }
    command
}

/// Runs `command` to its end: exit code, stdout and stderr.
pub fn run(command: &mut Command) -> (i32, String, String) {
    let ProcessOutput {
        status,
        stdout,
        stderr,
    } = command.output().expect("ktriage runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}
