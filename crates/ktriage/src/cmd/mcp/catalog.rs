//! The tools `ktriage mcp` offers: the agent's read-only tools (the same handlers, descriptions
//! and schemas) less those that need a failing log, plus `locate` and `parse_log`, each schema
//! with the optional `at` argument added. The MCP-only texts are `prompts/mcp.json`.

use super::failure_tools;
use ktriage_agent::client::ToolSpec;
use ktriage_agent::tools::Registry;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::Value;

/// The server's instructions, the `at` argument's schema and the MCP-only tools' specs.
const MCP_TEXTS: &str = include_str!("../../../../../prompts/mcp.json");

/// Agent tools that read the failing log, which an MCP session does not have.
const NEEDS_A_FAILING_LOG: &[&str] = &["log_excerpt"];

/// What the server offers.
pub struct Catalog {
    /// The handlers, by name.
    pub registry: Registry,
    /// The tools as `tools/list` shows them.
    pub tools: Vec<Tool>,
    /// The server's instructions, with `{repo}` and `{at}` still to fill in.
    pub instructions: String,
}

#[derive(serde::Deserialize)]
struct Texts {
    instructions: String,
    at: Value,
    tools: Vec<ToolSpec>,
}

impl Catalog {
    /// The tools of an MCP session.
    pub fn new() -> Catalog {
        let texts: Texts =
            serde_json::from_str(MCP_TEXTS).expect("prompts/mcp.json is checked by a test");
        let registry = failure_tools::all().into_iter().fold(
            Registry::standard().without(NEEDS_A_FAILING_LOG),
            |registry, tool| {
                let spec = texts
                    .tools
                    .iter()
                    .find(|spec| spec.name == tool.name())
                    .cloned();
                registry.with(
                    tool,
                    spec.expect(
                        "prompts/mcp.json describes every MCP-only tool, checked by a test",
                    ),
                )
            },
        );
        let tools = registry
            .specs()
            .iter()
            .map(|spec| listed(spec, &texts.at))
            .collect();
        Catalog {
            registry,
            tools,
            instructions: texts.instructions,
        }
    }
}

/// One tool as MCP lists it: its schema with `at` added, marked read-only and closed-world.
fn listed(spec: &ToolSpec, at: &Value) -> Tool {
    let mut schema = match &spec.parameters {
        Value::Object(schema) => schema.clone(),
        _ => JsonObject::from_iter([("type".to_string(), Value::from("object"))]),
    };
    let properties = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(JsonObject::new()));
    if let Value::Object(properties) = properties {
        properties.insert("at".to_string(), at.clone());
    }
    let annotations = ToolAnnotations::new()
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(false);
    Tool::new(spec.name.clone(), spec.description.clone(), schema).annotate(annotations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirteen_read_only_tools_each_with_at() {
        let catalog = Catalog::new();
        let mut names: Vec<&str> = catalog
            .tools
            .iter()
            .map(|tool| tool.name.as_ref())
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
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
                "show"
            ]
        );
        let mut spec_names: Vec<&str> = catalog
            .registry
            .specs()
            .iter()
            .map(|spec| spec.name.as_str())
            .collect();
        spec_names.sort_unstable();
        assert_eq!(spec_names, names, "every listed tool has a handler");
        for tool in &catalog.tools {
            assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
            assert_eq!(
                tool.input_schema["properties"]["at"]["type"], "string",
                "{}",
                tool.name
            );
            assert!(
                tool.description
                    .as_deref()
                    .is_some_and(|text| !text.is_empty()),
                "{}",
                tool.name
            );
            assert_eq!(
                tool.annotations.as_ref().and_then(|a| a.read_only_hint),
                Some(true),
                "{}",
                tool.name
            );
        }
        assert!(catalog.instructions.contains("{repo}") && catalog.instructions.contains("{at}"));
    }
}
