//! Decode throughput of the peer wire codec on a stream of 16 KiB piece messages fed in
//! 256 KiB socket-sized reads (the hot path of a fast download).

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use engine::wire::{Codec, Message, BLOCK_SIZE, DEFAULT_MAX_MESSAGE_LEN};

const TOTAL: usize = 64 << 20;
const READ: usize = 256 << 10;

fn stream() -> Vec<u8> {
    let block = Bytes::from(vec![0xa5u8; BLOCK_SIZE as usize]);
    let mut out = BytesMut::with_capacity(TOTAL + TOTAL / 1000);
    for i in 0..(TOTAL / BLOCK_SIZE as usize) as u32 {
        let msg = Message::Piece {
            piece: i / 16,
            offset: (i % 16) * BLOCK_SIZE,
            data: block.clone(),
        };
        Codec::encode(&msg, &mut out);
    }
    out.to_vec()
}

fn decode_pieces(c: &mut Criterion) {
    let wire = stream();
    let codec = Codec::new(DEFAULT_MAX_MESSAGE_LEN);
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.sample_size(10);
    g.bench_function("decode_64MiB_pieces_256KiB_reads", |b| {
        b.iter(|| {
            let mut buf = BytesMut::with_capacity(2 * READ);
            let mut blocks = 0usize;
            for chunk in wire.chunks(READ) {
                buf.extend_from_slice(chunk);
                while let Some(msg) = codec.decode(&mut buf).expect("valid stream") {
                    if let Message::Piece { data, .. } = black_box(msg) {
                        blocks += data.len();
                    }
                }
            }
            assert_eq!(blocks, TOTAL);
        })
    });
    g.finish();
}

criterion_group!(benches, decode_pieces);
criterion_main!(benches);
