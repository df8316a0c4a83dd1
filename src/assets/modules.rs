//! The browser modules' side of the asset table: which files are modules, the relative
//! imports a module's source names, and the import map. Pure: text in, text out.

use std::collections::BTreeMap;

use super::{Assets, URL_PREFIX};

/// Files the browser loads as ES modules.
pub(super) fn is_module(path: &str) -> bool {
    path.ends_with(".js") || path.ends_with(".mjs")
}

/// The relative specifiers of a module's static imports and re-exports: a quoted string
/// starting with `./` or `../` right after the word `from` or `import`, in source order. A
/// dynamic `import('…')` is not one: what it loads is fetched when it is needed. Searching
/// for the words, not for quotes, keeps an apostrophe in a comment from misleading it.
pub(super) fn static_imports(source: &str) -> Vec<&str> {
    let mut found: Vec<(usize, &str)> = ["from", "import"]
        .iter()
        .flat_map(|word| source.match_indices(word))
        .filter(|(at, _)| starts_word(source, *at))
        .filter_map(|(at, word)| {
            let after = source[at + word.len()..].trim_start();
            let quote = after.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            let body = &after[1..];
            let spec = &body[..body.find(quote)?];
            (is_relative(spec) && !spec.contains('\n')).then_some((at, spec))
        })
        .collect();
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, spec)| spec).collect()
}

fn starts_word(source: &str, at: usize) -> bool {
    !source[..at]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.')
}

fn is_relative(spec: &str) -> bool {
    spec.starts_with("./") || spec.starts_with("../")
}

/// The path under `static/` that `spec`, imported by the module at `from`, names; `None`
/// when it would leave `static/`.
pub(super) fn resolve(from: &str, spec: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop(); // the importing file itself
    for segment in spec.split('/') {
        match segment {
            "." | "" => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

/// `{"imports": {plain URL: fingerprinted URL}}` for every module, as JSON safe to place
/// inside a `<script>` element.
pub(super) fn import_map(assets: &Assets) -> String {
    let imports: BTreeMap<String, String> = assets
        .modules()
        .map(|(path, fingerprint)| {
            (
                format!("{URL_PREFIX}{path}"),
                format!("{URL_PREFIX}{path}?v={fingerprint}"),
            )
        })
        .collect();
    let json = serde_json::json!({ "imports": imports }).to_string();
    // No file name can end the element early.
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_imports_are_found_in_every_form() {
        let source = r#"
import { a } from './a.js';
import {
  b,
  c,
} from "../lib/b.js";
export { d } from './d.js';
import './side-effect.js';
import * as all from './all.js';
// the viewer's own choice, taken from './comment.js
const late = await import('./late.js');
const text = 'import ./not.js';
import { e } from 'https://cdn.example/e.js';
const label = "jumped from ";
"#;
        assert_eq!(
            static_imports(source),
            [
                "./a.js",
                "../lib/b.js",
                "./d.js",
                "./side-effect.js",
                "./all.js"
            ]
        );
    }

    #[test]
    fn specifiers_resolve_against_the_importing_module() {
        let table = [
            ("js/watch.js", "./clock.js", Some("js/clock.js")),
            (
                "js/stage.js",
                "./players/html5.js",
                Some("js/players/html5.js"),
            ),
            (
                "js/players/html5.js",
                "./echo.js",
                Some("js/players/echo.js"),
            ),
            (
                "js/players/html5.js",
                "../timeline.js",
                Some("js/timeline.js"),
            ),
            ("js/watch.js", "../../etc/passwd", None),
        ];
        for (from, spec, want) in table {
            assert_eq!(resolve(from, spec).as_deref(), want, "{spec} from {from}");
        }
    }
}
