//! Property tests (proptest) for invariants any input must keep: bencode round-trips, and
//! the storage layout's mapping of every piece onto files.

use std::collections::BTreeMap;

use engine::bencode::{self, Value};
use engine::storage::Layout;
use engine::Bitfield;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::List),
            proptest::collection::btree_map(
                proptest::collection::vec(any::<u8>(), 0..12),
                inner,
                0..8
            )
            .prop_map(|m: BTreeMap<Vec<u8>, Value>| Value::Dict(m)),
        ]
    })
}

proptest! {
    /// Any value encodes canonically and decodes back to itself; the encoding is a fixed point.
    #[test]
    fn bencode_round_trips(v in value()) {
        let bytes = bencode::encode(&v);
        let back = bencode::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(bencode::encode(&back), bytes.clone());
        let (prefix, used) = bencode::decode_prefix(&[&bytes[..], b"trailing"].concat()).unwrap();
        prop_assert_eq!(prefix, v);
        prop_assert_eq!(used, bytes.len());
    }

    /// Whatever decodes re-encodes to something that decodes to the same value.
    #[test]
    fn decoding_arbitrary_bytes_is_consistent(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(v) = bencode::decode(&data) {
            prop_assert_eq!(bencode::decode(&bencode::encode(&v)).unwrap(), v);
        }
    }

    /// Every piece maps onto files as consecutive runs that add up to its length, tile the
    /// torrent's byte stream in order with no gap or overlap, skip empty files and stay
    /// inside each file; `file_piece_range` and `file_bytes_done` agree with that mapping.
    #[test]
    fn layout_maps_every_piece_onto_files(
        piece_length in 1u32..5000,
        files in proptest::collection::vec(prop_oneof![Just(0u64), 0u64..20_000], 1..12),
        have_seed in any::<u64>(),
    ) {
        let layout = Layout::new(piece_length, &files).unwrap();
        let total: u64 = files.iter().sum();
        prop_assert_eq!(layout.total_length(), total);
        prop_assert_eq!(u64::from(layout.num_pieces()), total.div_ceil(u64::from(piece_length)));

        let mut touched: Vec<std::collections::BTreeSet<u32>> = vec![Default::default(); files.len()];
        let mut cursor = (0usize, 0u64); // next expected (file, offset), after skipping empty files
        let mut covered = 0u64;
        for p in 0..layout.num_pieces() {
            let len = layout.piece_len(p);
            prop_assert!(len > 0 && len <= piece_length);
            let segs: Vec<_> = layout.segments(p, 0, len).collect();
            prop_assert_eq!(segs.iter().map(|s| u64::from(s.len)).sum::<u64>(), u64::from(len));
            for s in &segs {
                while cursor.0 < files.len() && cursor.1 == files[cursor.0] {
                    cursor = (cursor.0 + 1, 0);
                }
                prop_assert_eq!((s.file_index, s.file_offset), cursor);
                prop_assert!(s.len > 0);
                prop_assert!(s.file_offset + u64::from(s.len) <= files[s.file_index]);
                cursor.1 += u64::from(s.len);
                touched[s.file_index].insert(p);
            }
            covered += u64::from(len);
            // A block inside the piece maps onto the matching slice of the piece's runs.
            if len > 1 {
                let off = len / 3;
                let sub: u64 = layout.segments(p, off, len - off).map(|s| u64::from(s.len)).sum();
                prop_assert_eq!(sub, u64::from(len - off));
            }
        }
        prop_assert_eq!(covered, total);
        prop_assert_eq!(layout.piece_len(layout.num_pieces()), 0);

        let mut have = Bitfield::new(layout.num_pieces() as usize);
        for p in 0..layout.num_pieces() {
            if (have_seed >> (p % 64)) & 1 == 1 {
                have.set(p as usize);
            }
        }
        let done = layout.file_bytes_done(&have);
        for (f, pieces) in touched.iter().enumerate() {
            let range = layout.file_piece_range(f);
            prop_assert_eq!(range.clone().collect::<std::collections::BTreeSet<_>>(), pieces.clone());
            let expected: u64 = pieces
                .iter()
                .filter(|&&p| have.get(p as usize))
                .map(|&p| {
                    layout
                        .segments(p, 0, layout.piece_len(p))
                        .filter(|s| s.file_index == f)
                        .map(|s| u64::from(s.len))
                        .sum::<u64>()
                })
                .sum();
            prop_assert_eq!(done[f], expected);
        }
    }
}
