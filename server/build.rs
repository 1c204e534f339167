//! Embeds the dashboard's static site into the binary, so `torrentedge serve` needs no files
//! beside it. Sources: `style/` and `public/` from the repository, and the WASM bundle (`pkg/`)
//! from `$TORRENTEDGE_SITE_DIR/pkg` when the Makefile has built it. Without a bundle the page
//! still renders on the server; it just does not hydrate.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .expect("server/ sits in the workspace")
        .to_path_buf();
    let mut assets: Vec<(String, PathBuf)> = Vec::new();

    collect(&root.join("public"), "", &mut assets);
    collect(&root.join("style"), "", &mut assets);
    println!("cargo:rerun-if-env-changed=TORRENTEDGE_SITE_DIR");
    if let Some(site) = env::var_os("TORRENTEDGE_SITE_DIR") {
        collect(&Path::new(&site).join("pkg"), "pkg/", &mut assets);
    }
    assets.sort();

    let mut out = String::from(
        "/// Embedded site files: (URL path, bytes).\npub static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for (url, path) in &assets {
        out.push_str(&format!(
            "    (\"/{url}\", include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    fs::write(dest, out).expect("write assets.rs");
}

/// Adds every file below `dir` (recursively) under the URL prefix `prefix`.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            collect(&path, &format!("{prefix}{name}/"), out);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
            out.push((format!("{prefix}{name}"), path));
        }
    }
}
