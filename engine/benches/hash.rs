//! Hashing throughput: raw SHA-1 and a full parallel recheck of a warm 256 MiB file.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use engine::storage::{recheck, sha1_piece, Storage};

const MIB: usize = 1 << 20;

fn sha1_raw(c: &mut Criterion) {
    let buf: Vec<u8> = (0..4 * MIB).map(|i| (i * 7 + i / 4096) as u8).collect();
    let mut g = c.benchmark_group("sha1");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("4MiB", |b| b.iter(|| sha1_piece(black_box(&buf))));
    g.finish();
}

fn recheck_file(c: &mut Criterion) {
    const TOTAL: usize = 256 * MIB;
    const PIECE: u32 = 4 * MIB as u32;
    let dir = tempfile::tempdir().expect("tempdir");
    let files = vec![(PathBuf::from("data.bin"), TOTAL as u64)];
    let storage = Storage::new(dir.path(), &files, PIECE).expect("storage");
    let mut hashes = Vec::new();
    let mut piece = vec![0u8; PIECE as usize];
    for p in 0..(TOTAL / PIECE as usize) as u32 {
        for (i, b) in piece.iter_mut().enumerate() {
            *b = (i as u32 ^ p.wrapping_mul(2_654_435_761)) as u8;
        }
        storage.write_piece(p, &piece).expect("write");
        hashes.push(sha1_piece(&piece));
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Warm the page cache and check the data before measuring.
    let have = recheck(&storage, &hashes, threads, &|_| {}).expect("recheck");
    assert!(have.is_full());

    let mut g = c.benchmark_group("recheck");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.bench_function(format!("256MiB_{threads}threads"), |b| {
        b.iter(|| recheck(&storage, &hashes, threads, &|_| {}).expect("recheck"))
    });
    g.finish();
}

criterion_group!(benches, sha1_raw, recheck_file);
criterion_main!(benches);
