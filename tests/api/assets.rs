//! Static files: linked by fingerprint, cached for good, compressed; media left whole.

use crate::helpers::spawn_app;

/// The `href`s of the page's stylesheets, with the escaping of the template undone.
fn stylesheet_links(html: &str) -> Vec<String> {
    html.split("<link rel=\"stylesheet\" href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&#x2F;", "/"))
        .collect()
}

#[tokio::test]
async fn a_fingerprinted_file_is_cached_for_a_year_and_compressed() {
    let app = spawn_app().await;
    let html = app.home_with(&app.client).await;
    let links = stylesheet_links(&html);
    let bootstrap = links
        .iter()
        .find(|l| l.contains("bootstrap.min.css"))
        .expect("the page links Bootstrap");
    assert!(bootstrap.contains("?v="), "{bootstrap}");
    for (accept, encoding) in [("br", "br"), ("gzip", "gzip"), ("br;q=0.5, gzip", "gzip")] {
        let res = app
            .client
            .get(app.url(bootstrap))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-encoding"], encoding, "{accept}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(
            res.headers().get("set-cookie").is_none(),
            "nothing personal"
        );
    }
}

#[tokio::test]
async fn a_file_without_its_current_fingerprint_must_be_revalidated() {
    let app = spawn_app().await;
    for path in [
        "/static/css/app.css",
        "/static/css/app.css?v=0000000000000000",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        let etag = res.headers()["etag"].clone();
        let again = app
            .client
            .get(app.url(path))
            .header("If-None-Match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
}

#[tokio::test]
async fn media_is_never_compressed_and_keeps_its_byte_ranges() {
    let app = spawn_app().await;
    let url = app.url("/static/media/sample-30s.webm");
    let whole = app
        .client
        .get(&url)
        .header("Accept-Encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_ne!(whole.headers()["content-encoding"], "br");
    assert_ne!(whole.headers()["content-encoding"], "gzip");
    assert_eq!(whole.content_length(), Some(511_886));
    let part = app
        .client
        .get(&url)
        .header("Accept-Encoding", "br, gzip")
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 100-199/511886");
    assert_eq!(part.bytes().await.unwrap().len(), 100);
}

#[tokio::test]
async fn the_pages_allow_their_import_map_and_no_other_inline_script() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = res.text().await.unwrap();
    let map = html
        .split("<script type=\"importmap\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the page carries the import map");
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(map));
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(script_src.contains(&format!("'sha256-{hash}'")), "{csp}");
    assert!(!script_src.contains("unsafe-inline"), "{csp}");
    let imports: serde_json::Value = serde_json::from_str(map).unwrap();
    let watch = imports["imports"]["/static/js/watch.js"].as_str().unwrap();
    assert!(watch.starts_with("/static/js/watch.js?v="), "{watch}");
}
