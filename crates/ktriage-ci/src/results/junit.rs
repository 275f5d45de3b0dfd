//! JUnit XML (`<testsuite>`/`<testcase>`), read with a small tag scanner: enough for the
//! files CI systems and xfstests' `result.xml` write, not a general XML parser.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use super::log::{summarize_log, Signer};
use super::{files_with_ext, single_commit, Error, ResultSet, Run, Status};

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Case {
    /// `name` attribute.
    pub name: String,
    /// `classname` attribute (empty when absent).
    pub classname: String,
    /// `time` attribute in seconds.
    pub time: Option<u64>,
    /// Passed, Failed (`<failure>`/`<error>`) or NotRun (`<skipped>`).
    pub status: Status,
    /// The element's text content (failure message, system-out), entities decoded.
    pub text: String,
}

fn testcase_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?s)<testcase\b([^>]*?)(?:/>|>(.*?)</testcase\s*>)").expect("static regex")
    })
}

fn attr_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("static regex")
    })
}

fn tag_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?s)<!\[CDATA\[|\]\]>|<[^>]*>").expect("static regex"))
}

/// Decodes the five predefined XML entities and numeric character references.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Finds every `<testcase>` in `xml`.
pub(super) fn parse_cases(xml: &str) -> Vec<Case> {
    testcase_re()
        .captures_iter(xml)
        .map(|cap| {
            let attrs = cap.get(1).map_or("", |m| m.as_str());
            let body = cap.get(2).map_or("", |m| m.as_str());
            let attr = |key: &str| {
                attr_re()
                    .captures_iter(attrs)
                    .find(|a| a.get(1).is_some_and(|k| k.as_str() == key))
                    .and_then(|a| a.get(2).or_else(|| a.get(3)))
                    .map(|v| decode_entities(v.as_str()))
            };
            let status = if body.contains("<failure") || body.contains("<error") {
                Status::Failed
            } else if body.contains("<skipped") {
                Status::NotRun
            } else {
                Status::Passed
            };
            let text = decode_entities(&tag_re().replace_all(body, "\n"));
            Case {
                name: attr("name").unwrap_or_default(),
                classname: attr("classname").unwrap_or_default(),
                time: attr("time")
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .map(|t| t.round() as u64),
                status,
                text,
            }
        })
        .collect()
}

/// Turns parsed cases into runs; `name` builds the test key from a case. Failing cases'
/// text goes through `signer`.
pub(super) fn cases_to_runs(
    cases: Vec<Case>,
    signer: Signer,
    name: fn(&Case) -> String,
) -> Vec<Run> {
    cases
        .into_iter()
        .map(|case| {
            let log = case
                .status
                .is_failure()
                .then(|| summarize_log(case.text.as_bytes(), false, signer));
            Run {
                test: name(&case),
                status: case.status,
                duration: case.time,
                log,
            }
        })
        .collect()
}

/// `classname.name`, or `name` when there is no class name.
fn qualified_name(case: &Case) -> String {
    if case.classname.is_empty() {
        case.name.clone()
    } else {
        format!("{}.{}", case.classname, case.name)
    }
}

/// Reads a JUnit XML file, or every `*.xml` file of a directory, as one commit.
pub(super) fn read(path: &Path, signer: Signer) -> Result<ResultSet, Error> {
    let mut runs = Vec::new();
    for file in files_with_ext(path, &[".xml"])? {
        let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
        let cases = parse_cases(&String::from_utf8_lossy(&bytes));
        if cases.is_empty() && !bytes.is_empty() {
            return Err(Error::format(&file, "no <testcase> elements"));
        }
        runs.extend(cases_to_runs(cases, signer, qualified_name));
    }
    if runs.is_empty() {
        return Err(Error::NotFound {
            path: path.to_path_buf(),
        });
    }
    Ok(single_commit("local".to_owned(), runs, Vec::new()))
}
