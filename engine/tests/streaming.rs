//! Streaming (issue 14): a file read while it downloads from a real libtorrent seeder
//! (capped at 2 MiB/s so the download takes a while). The torrent is set to sequential, so
//! without reader deadlines the middle of the file would arrive only after everything before
//! it; with them, a read in the middle returns while most pieces in between are still
//! missing. Reads at the start, the middle and the end return the file's bytes.
//!
//! `scripts/in-netns.sh cargo test -p engine --test streaming`

mod support;

use engine::torrent::FileStream;
use engine::InfoHash;
use support::*;

/// Reads `len` bytes at `offset` through the stream (in several reads when they span pieces).
async fn read_exact(stream: &mut FileStream, mut offset: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let chunk = stream
            .read(offset, len - out.len())
            .await
            .expect("stream read");
        assert!(!chunk.is_empty(), "early end of file at {offset}");
        offset += chunk.len() as u64;
        out.extend_from_slice(&chunk);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_streams_while_downloading_and_seeks_jump_ahead() {
    hard_timeout(TEST_TIMEOUT, "streaming", async {
        const PIECE: u32 = 256 * 1024;
        let movie_len = 24 * MIB + 777;
        let fx = fixture(
            Layout::multi(
                "show",
                &[
                    ("a.nfo", 5 * MIB + 123),
                    ("movie.mkv", movie_len),
                    ("z.txt", 1000),
                ],
                PIECE,
            ),
            93,
            Maker::Libtorrent,
            &[],
        );
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let seeder = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                upload_limit: Some(2 << 20),
                ..Default::default()
            },
        );
        let src = std::fs::read(fx.layout.root_in(&fx.src).join("movie.mkv")).unwrap();
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
        h.set_selection(&[], Some(true));
        let meta = h.metainfo().expect("metainfo");
        let index = meta
            .files
            .iter()
            .position(|f| f.path.ends_with("movie.mkv"))
            .expect("the movie is listed");
        let file_start: u64 = meta.files[..index].iter().map(|f| f.length).sum();
        let mut stream = h.open_file(index).expect("open the movie");
        assert_eq!(stream.len(), movie_len);
        assert!(h.open_file(meta.files.len()).is_err(), "no such file");

        let head = read_exact(&mut stream, 0, 100_000).await;
        assert_eq!(head, src[..100_000], "the start");

        // Seek to the middle: its pieces come before those in between.
        let middle = movie_len / 2;
        let got = read_exact(&mut stream, middle, 300_000).await;
        assert_eq!(
            got,
            src[middle as usize..middle as usize + 300_000],
            "the middle"
        );
        let first_between =
            ((file_start + engine::torrent::READ_AHEAD) / u64::from(PIECE)) as usize + 1;
        let last_between = ((file_start + middle) / u64::from(PIECE)) as usize - 1;
        let have = h.pieces();
        let between = first_between..last_between;
        let done = between.clone().filter(|&p| have.get(p)).count();
        assert!(
            done * 2 < between.len(),
            "the middle arrived after {done} of the {} pieces before it",
            between.len()
        );

        let tail = read_exact(&mut stream, movie_len - 5000, 5000).await;
        assert_eq!(tail, src[src.len() - 5000..], "the end");
        assert!(stream.read(movie_len, 10).await.unwrap().is_empty(), "EOF");
        assert!(stream.read(movie_len + 1, 10).await.is_err(), "past EOF");

        drop(stream);
        s.wait_completed(ih, DL_TIMEOUT).await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        s.shutdown().await;
    })
    .await
}
