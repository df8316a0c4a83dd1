//! The templates' view of the asset table:
//! - `static_url(path="css/app.css")`: the file's fingerprinted URL;
//! - `module_graph(entry="js/watch.js")`: the fingerprinted URLs of every module the entry
//!   imports, for `<link rel="modulepreload">`;
//! - `import_map()`: the import map's JSON, for `<script type="importmap">` (the
//!   Content-Security-Policy allows exactly this text: `Assets::import_map_source`).
//!
//! A path the table does not know is an error, so a mistyped link fails the page's tests
//! instead of pointing nowhere.

use std::collections::HashMap;
use std::sync::Arc;

use tera::{Tera, Value};

use super::Assets;

pub(super) fn register(assets: &Arc<Assets>, tera: &mut Tera) {
    let table = assets.clone();
    tera.register_function("static_url", move |args: &HashMap<String, Value>| {
        let path = string_arg(args, "path")?;
        table
            .url(path)
            .map(Value::String)
            .ok_or_else(|| tera::Error::msg(format!("static_url: no file static/{path}")))
    });
    let table = assets.clone();
    tera.register_function("module_graph", move |args: &HashMap<String, Value>| {
        let entry = string_arg(args, "entry")?;
        if table.url(entry).is_none() {
            return Err(tera::Error::msg(format!(
                "module_graph: no module static/{entry}"
            )));
        }
        Ok(Value::from(table.module_graph(entry)))
    });
    let table = assets.clone();
    tera.register_function("import_map", move |_: &HashMap<String, Value>| {
        Ok(Value::String(table.import_map().to_owned()))
    });
}

fn string_arg<'a>(args: &'a HashMap<String, Value>, name: &str) -> tera::Result<&'a str> {
    args.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| tera::Error::msg(format!("missing the string argument `{name}`")))
}
