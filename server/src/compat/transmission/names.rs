//! Legacy RPC names (kebab-case and camelCase) and JSON-RPC 2.0's snake_case ones.

use serde_json::{Map, Value};

/// `hashString` → `hash_string`, `download-dir` → `download_dir`.
pub fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c == '-' {
            out.push('_');
        } else if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every key of an answer, recursively, in snake_case.
pub fn to_snake(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (snake(k), to_snake(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(to_snake).collect()),
        other => other.clone(),
    }
}

/// The legacy name of a snake_case argument name (unknown names are kept).
fn legacy(name: &str) -> String {
    super::methods::ARGUMENT_NAMES
        .iter()
        .find(|l| snake(l) == name)
        .map_or_else(|| name.to_owned(), |l| (*l).to_owned())
}

/// A JSON-RPC request's params with legacy argument names. (`fields` lists are compared in
/// snake_case by the methods, so they stay as sent.)
pub fn from_snake(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter()
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                ("ids", Value::String(s)) if s == "recently_active" => {
                    Value::from("recently-active")
                }
                _ => v.clone(),
            };
            (legacy(k), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_convert_both_ways() {
        assert_eq!(snake("hashString"), "hash_string");
        assert_eq!(snake("download-dir"), "download_dir");
        assert_eq!(snake("peersGettingFromUs"), "peers_getting_from_us");
        assert_eq!(legacy("download_dir"), "download-dir");
        let m = from_snake(
            json!({"fields": ["id", "hash_string"], "delete_local_data": true})
                .as_object()
                .unwrap(),
        );
        assert_eq!(m["fields"], json!(["id", "hash_string"]));
        assert_eq!(m["delete-local-data"], json!(true));
        assert_eq!(
            to_snake(&json!({"torrents": [{"hashString": "x"}]})),
            json!({"torrents": [{"hash_string": "x"}]})
        );
    }
}
