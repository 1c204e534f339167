//! The piece map: which pieces are verified, as rows of SVG rectangles, one per run of
//! equal pieces, so a torrent with 100k pieces draws in a few hundred elements.

use leptos::prelude::*;

/// Pieces per row of the map.
const COLS: usize = 100;

/// `(row, first column, length)` of every run of verified pieces.
pub fn runs(have: &[bool]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for (row, chunk) in have.chunks(COLS).enumerate() {
        let mut col = 0;
        while col < chunk.len() {
            if chunk[col] {
                let start = col;
                while col < chunk.len() && chunk[col] {
                    col += 1;
                }
                out.push((row, start, col - start));
            } else {
                col += 1;
            }
        }
    }
    out
}

/// Decodes the API's hex bitfield (high bit first) into `num_pieces` flags.
pub fn decode_bitfield(hex: &str, num_pieces: usize) -> Vec<bool> {
    let mut have = Vec::with_capacity(num_pieces);
    for c in hex.chars() {
        let nibble = c.to_digit(16).unwrap_or(0);
        for bit in (0..4).rev() {
            if have.len() < num_pieces {
                have.push(nibble >> bit & 1 == 1);
            }
        }
    }
    have.resize(num_pieces, false);
    have
}

#[component]
pub fn PieceMap(#[prop(into)] have: Signal<Vec<bool>>) -> impl IntoView {
    view! {
        {move || {
            have.with(|have| {
                let rows = have.len().div_ceil(COLS).max(1);
                let cols = have.len().clamp(1, COLS);
                let done = have.iter().filter(|h| **h).count();
                let label = format!("{done} of {} pieces verified", have.len());
                view! {
                    <svg
                        class="piece-map"
                        viewBox=format!("0 0 {cols} {rows}")
                        preserveAspectRatio="none"
                        role="img"
                        aria-label=label
                        style=format!("aspect-ratio: {COLS} / {}", (rows * 2).clamp(4, 40))
                    >
                        <rect class="missing" x="0" y="0" width=cols height=rows />
                        {runs(have)
                            .into_iter()
                            .map(|(r, c, n)| {
                                view! { <rect class="have" x=c y=r width=n height="1" /> }
                            })
                            .collect_view()}
                    </svg>
                }
            })
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_rows_and_gaps() {
        let mut have = vec![true; 250];
        have[3] = false;
        have[150] = false;
        assert_eq!(
            runs(&have),
            vec![(0, 0, 3), (0, 4, 96), (1, 0, 50), (1, 51, 49), (2, 0, 50)]
        );
        assert!(runs(&[false; 10]).is_empty());
    }

    #[test]
    fn bitfield_is_high_bit_first() {
        assert_eq!(decode_bitfield("a0", 3), vec![true, false, true]);
        assert_eq!(decode_bitfield("", 2), vec![false, false]);
        assert_eq!(decode_bitfield("zz", 2), vec![false, false]);
    }
}
