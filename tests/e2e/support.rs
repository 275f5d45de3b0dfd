//! Helpers: run the built binary and build example repositories.

use std::path::Path;
use std::process::Command;

/// What one run of the binary printed.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Parses stdout as JSON, failing the test with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

/// Runs `ktriage ARGS` with `cwd` as the working directory.
pub fn ktriage(cwd: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(args)
        .current_dir(cwd)
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("the ktriage binary runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Builds the bundled example repository under `dir/repo`.
pub fn example_repo(dir: &Path) -> ktriage_example::BuiltRepo {
    ktriage_example::build_repo(&ktriage_example::bundled_history(), &dir.join("repo")).expect("example builds")
}
