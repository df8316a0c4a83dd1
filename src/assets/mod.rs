//! The files under `static/` as the pages link them. Each file is fingerprinted by its content
//! once, at start: a page links `/static/js/watch.js?v={fingerprint}`, and a browser may keep
//! that URL for a year without asking again, because a changed file gets another URL.
//!
//! The browser modules import each other by relative path (`./clock.js`), which carries no
//! fingerprint; the pages' import map (`modules`) sends each such import to the fingerprinted
//! URL, and a page's module preloads fetch a module's whole import graph at once instead of
//! one level after the other.
//!
//! Media (`static/media/`) is left out: videos link their media by a URL stored with them,
//! so it is served with validators (ETag, Last-Modified) instead.
//!
//! Files are read here and nowhere else; a file changed while the server runs keeps the
//! fingerprint it had at start until the server restarts.

mod modules;
mod templates;

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Where the files are served.
pub const URL_PREFIX: &str = "/static/";
/// The folder under `static/` left unfingerprinted (see the module's comment).
const MEDIA_DIR: &str = "media";
/// Hex digits of the content hash a URL carries (64 bits: no two versions of a file meet).
const FINGERPRINT_HEX_DIGITS: usize = 16;

/// Every fingerprinted file, the modules' imports, and the import map built from them.
#[derive(Debug, Default)]
pub struct Assets {
    /// Path under `static/` (`js/watch.js`) → fingerprint of its content.
    fingerprints: BTreeMap<String, String>,
    /// Module path → the paths of the modules it imports statically, in source order.
    imports: BTreeMap<String, Vec<String>>,
    /// The import map every page carries, as JSON.
    import_map: String,
}

impl Assets {
    /// Reads every file under `dir` (but media) and fingerprints it.
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let mut files = BTreeMap::new();
        collect(dir, dir, &mut files)?;
        Ok(Self::from_files(files))
    }

    /// The table for these files (path under `static/` → content).
    pub fn from_files(files: BTreeMap<String, Vec<u8>>) -> Self {
        let fingerprints: BTreeMap<String, String> = files
            .iter()
            .map(|(path, content)| (path.clone(), fingerprint(content)))
            .collect();
        let imports = files
            .iter()
            .filter(|(path, _)| modules::is_module(path))
            .map(|(path, content)| {
                let source = String::from_utf8_lossy(content);
                let found = modules::static_imports(&source)
                    .into_iter()
                    .filter_map(|spec| modules::resolve(path, spec))
                    .filter(|target| fingerprints.contains_key(target))
                    .collect();
                (path.clone(), found)
            })
            .collect();
        let mut assets = Self {
            fingerprints,
            imports,
            import_map: String::new(),
        };
        assets.import_map = modules::import_map(&assets);
        assets
    }

    /// The URL of a file under `static/`, fingerprinted; `None` for a file it does not know.
    pub fn url(&self, path: &str) -> Option<String> {
        let fingerprint = self.fingerprints.get(path)?;
        Some(format!("{URL_PREFIX}{path}?v={fingerprint}"))
    }

    /// Whether `version` is the current fingerprint of `path`: the content at that URL will
    /// never change, so it may be cached for good.
    pub fn is_current(&self, path: &str, version: &str) -> bool {
        self.fingerprints.get(path).is_some_and(|f| f == version)
    }

    /// The fingerprinted URLs of every module `entry` imports, directly or not, each once,
    /// in the order a depth-first walk meets them (the entry itself left out).
    pub fn module_graph(&self, entry: &str) -> Vec<String> {
        let mut seen = vec![entry.to_owned()];
        let mut stack: Vec<&str> = vec![entry];
        let mut order = Vec::new();
        while let Some(module) = stack.pop() {
            for dep in self.imports.get(module).into_iter().flatten().rev() {
                if !seen.contains(dep) {
                    seen.push(dep.clone());
                    stack.push(dep);
                }
            }
            if module != entry {
                order.push(module);
            }
        }
        order.into_iter().filter_map(|m| self.url(m)).collect()
    }

    /// The import map (JSON) that sends every module's plain URL to its fingerprinted one.
    pub fn import_map(&self) -> &str {
        &self.import_map
    }

    /// The Content-Security-Policy source that lets exactly this import map run inline.
    pub fn import_map_source(&self) -> String {
        let digest = Sha256::digest(self.import_map.as_bytes());
        format!("'sha256-{}'", STANDARD.encode(digest))
    }

    /// Adds the templates' functions (`static_url`, `module_graph`, `import_map`).
    pub fn register(self: &std::sync::Arc<Self>, tera: &mut tera::Tera) {
        templates::register(self, tera);
    }

    fn modules(&self) -> impl Iterator<Item = (&String, &String)> {
        self.fingerprints
            .iter()
            .filter(|(path, _)| modules::is_module(path))
    }
}

fn fingerprint(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..FINGERPRINT_HEX_DIGITS].to_owned()
}

/// Reads the files under `dir` into `out`, keyed by their path under `root` with `/`.
fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let key = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if path.is_dir() {
            if key != MEDIA_DIR {
                collect(root, &path, out)?;
            }
        } else if path.is_file() {
            out.insert(key, std::fs::read(&path)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets(files: &[(&str, &str)]) -> Assets {
        Assets::from_files(
            files
                .iter()
                .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
                .collect(),
        )
    }

    #[test]
    fn a_url_carries_the_fingerprint_of_the_content() {
        let one = assets(&[("css/app.css", "a{}")]);
        let other = assets(&[("css/app.css", "b{}")]);
        let url = one.url("css/app.css").unwrap();
        assert!(url.starts_with("/static/css/app.css?v="), "{url}");
        assert_ne!(
            url,
            other.url("css/app.css").unwrap(),
            "new content, new URL"
        );
        let version = url.rsplit('=').next().unwrap();
        assert!(one.is_current("css/app.css", version));
        assert!(!other.is_current("css/app.css", version));
        assert_eq!(one.url("css/missing.css"), None);
    }

    #[test]
    fn a_module_graph_lists_every_import_once_without_the_entry() {
        let a = assets(&[
            (
                "js/main.js",
                "import { b } from './b.js';\nimport './c.js';",
            ),
            (
                "js/b.js",
                "export { c } from './c.js';\nimport { d } from './lib/d.js';",
            ),
            ("js/c.js", "import { b } from './b.js'; // a cycle"),
            ("js/lib/d.js", "const x = import('../late.js');"),
            ("js/late.js", ""),
        ]);
        let graph: Vec<String> = a
            .module_graph("js/main.js")
            .into_iter()
            .map(|u| u.split('?').next().unwrap().to_owned())
            .collect();
        assert_eq!(
            graph,
            ["/static/js/b.js", "/static/js/lib/d.js", "/static/js/c.js"],
            "static imports only; a dynamic import loads when it is needed"
        );
    }

    #[test]
    fn the_import_map_sends_every_module_to_its_fingerprinted_url() {
        let a = assets(&[("js/b.js", ""), ("css/app.css", "")]);
        let map: serde_json::Value = serde_json::from_str(a.import_map()).unwrap();
        assert_eq!(
            map["imports"]["/static/js/b.js"].as_str(),
            a.url("js/b.js").as_deref()
        );
        assert!(map["imports"].get("/static/css/app.css").is_none());
        assert!(a.import_map_source().starts_with("'sha256-"));
    }
}
