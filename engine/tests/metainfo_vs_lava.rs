//! Differential test: our metainfo parser against `lava_torrent`, the reference Rust parser,
//! on torrents made by our creator (single and multi-file). The two must agree on every
//! field both understand, including the info-hash.

use engine::create::{create_torrent, CreateOptions};
use engine::metainfo::Metainfo;
use lava_torrent::torrent::v1::Torrent;
use std::path::Path;

fn write(path: &Path, len: usize, seed: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    std::fs::write(path, data).unwrap();
}

fn compare(torrent: &[u8]) {
    let ours = Metainfo::from_bytes(torrent).expect("ours parses");
    let lava = Torrent::read_from_bytes(torrent).expect("lava parses");
    assert_eq!(ours.info_hash.to_hex(), lava.info_hash());
    assert_eq!(ours.name, lava.name);
    assert_eq!(i64::from(ours.piece_length), lava.piece_length);
    assert_eq!(ours.total_length as i64, lava.length);
    let lava_pieces: Vec<Vec<u8>> = lava.pieces.clone();
    let our_pieces: Vec<Vec<u8>> = ours.piece_hashes.iter().map(|h| h.to_vec()).collect();
    assert_eq!(our_pieces, lava_pieces);
    match &lava.files {
        None => {
            assert_eq!(ours.files.len(), 1);
            assert_eq!(ours.files[0].path, Path::new(&lava.name));
        }
        Some(files) => {
            let theirs: Vec<_> = files
                .iter()
                .map(|f| (Path::new(&lava.name).join(&f.path), f.length as u64))
                .collect();
            let mine: Vec<_> = ours
                .files
                .iter()
                .map(|f| (f.path.clone(), f.length))
                .collect();
            assert_eq!(mine, theirs);
        }
    }
    let lava_trackers: Vec<Vec<String>> = match (&lava.announce_list, &lava.announce) {
        (Some(list), _) => list.clone(),
        (None, Some(a)) => vec![vec![a.clone()]],
        (None, None) => vec![],
    };
    assert_eq!(ours.trackers, lava_trackers);
    assert_eq!(ours.private, lava.is_private());
    // Lava keeps `url-list` among its extra fields and turns it into the magnet's `ws=`.
    let lava_magnet = lava.magnet_link().expect("lava magnet");
    for ws in &ours.web_seeds {
        assert!(lava_magnet.contains("&ws="), "{lava_magnet} lacks {ws}");
    }
}

#[test]
fn single_file_agrees_with_lava() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.bin");
    write(&file, 300_001, 1);
    let opts = CreateOptions {
        trackers: vec![vec!["http://127.0.0.1:1/announce".into()]],
        piece_length: Some(32 * 1024),
        private: true,
        comment: Some("differential".into()),
        created_by: None,
        name: None,
        web_seeds: vec!["http://127.0.0.1:4/files/".into()],
    };
    compare(&create_torrent(&file, &opts, &|_| {}).unwrap());
}

#[test]
fn multi_file_with_tiers_agrees_with_lava() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("album");
    write(&root.join("a.bin"), 70_000, 2);
    write(&root.join("sub/b.bin"), 10, 3);
    write(&root.join("sub/c.bin"), 200_000, 4);
    let opts = CreateOptions {
        trackers: vec![
            vec![
                "http://127.0.0.1:1/announce".into(),
                "udp://127.0.0.1:2".into(),
            ],
            vec!["http://127.0.0.1:3/announce".into()],
        ],
        piece_length: Some(16 * 1024),
        private: false,
        comment: None,
        created_by: None,
        name: None,
        web_seeds: Vec::new(),
    };
    compare(&create_torrent(&root, &opts, &|_| {}).unwrap());
}
