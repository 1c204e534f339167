//! Two connections over a simulated link (virtual clock, seeded loss, delay and reordering):
//! the bytes arrive intact and the state machine recovers from losses.

use super::*;
use crate::utp::packet::Packet;

/// One direction of the link: datagrams with their delivery time.
#[derive(Default)]
struct Wire {
    q: Vec<(u64, Vec<u8>)>,
}

struct Link {
    rng: u64,
    /// Loss per mille, base delay and jitter (µs).
    loss: u64,
    delay: u64,
    jitter: u64,
    sent: u64,
    lost: u64,
}

impl Link {
    fn rand(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn put(&mut self, wire: &mut Wire, now: u64, b: &[u8]) -> bool {
        self.sent += 1;
        if self.rand() % 1000 < self.loss {
            self.lost += 1;
            return true;
        }
        let at = now + self.delay + self.rand() % (self.jitter + 1);
        wire.q.push((at, b.to_vec()));
        true
    }
}

fn due(wire: &mut Wire, now: u64) -> Vec<Vec<u8>> {
    let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
    wire.q.retain(|(at, b)| {
        if *at <= now {
            out.push((*at, b.clone()));
            false
        } else {
            true
        }
    });
    out.sort_by_key(|(at, _)| *at);
    out.into_iter().map(|(_, b)| b).collect()
}

/// Sends `len` bytes from a to b; returns (bytes b read, virtual µs taken, a's retransmits).
fn transfer(len: usize, loss: u64, delay: u64, jitter: u64, seed: u64) -> (Vec<u8>, u64, u64) {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 1000) as u8).collect();
    let mut link = Link {
        rng: seed,
        loss,
        delay,
        jitter,
        sent: 0,
        lost: 0,
    };
    let (mut ab, mut ba) = (Wire::default(), Wire::default());
    let mut now = 1_000u64;
    let mut a = Conn::connect(100, now, &mut |b: &[u8]| link.put(&mut ab, now, b));
    let mut b: Option<Conn> = None;
    let mut written = 0;
    let mut got = Vec::with_capacity(len);
    let mut buf = vec![0u8; 64 * 1024];
    let mut shut = false;
    let step = 200;
    while now < 600_000_000 {
        now += step;
        for d in due(&mut ab, now) {
            let p = Packet::parse(&d).unwrap();
            match &mut b {
                None if p.header.ty == PacketType::Syn => {
                    assert_eq!(p.header.conn_id, 100);
                    b = Some(Conn::accept(&p.header, 5000, now, &mut |x: &[u8]| {
                        link.put(&mut ba, now, x)
                    }));
                }
                None => {}
                Some(b) => {
                    b.on_packet(&p, now, &mut |x: &[u8]| link.put(&mut ba, now, x));
                }
            }
        }
        if let Some(b) = &mut b {
            if b.ack_due {
                b.send_state(now, &mut |x: &[u8]| link.put(&mut ba, now, x));
            }
        }
        for d in due(&mut ba, now) {
            let p = Packet::parse(&d).unwrap();
            a.on_packet(&p, now, &mut |x: &[u8]| link.put(&mut ab, now, x));
        }
        if a.state == State::Connected {
            if written < len {
                written += a.write(&data[written..], now, &mut |x: &[u8]| {
                    link.put(&mut ab, now, x)
                });
            } else if !shut {
                a.shutdown(now, &mut |x: &[u8]| link.put(&mut ab, now, x));
                shut = true;
            }
        }
        if let Some(b) = &mut b {
            // The application reads only every 5 ms: the window fills and reopens.
            if now % 5_000 < step {
                loop {
                    let n = b.read(&mut buf, now, &mut |x: &[u8]| link.put(&mut ba, now, x));
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
            }
            if b.read_done() && a.send_done() && shut {
                assert!(b.eof_seen());
                return (got, now, a.retransmits);
            }
            if now % 10_000 < step {
                b.tick(now, &mut |x: &[u8]| link.put(&mut ba, now, x));
            }
        }
        if now % 10_000 < step {
            a.tick(now, &mut |x: &[u8]| link.put(&mut ab, now, x));
        }
        assert!(a.error.is_none(), "sender failed: {:?}", a.error);
    }
    panic!(
        "transfer did not finish: {} of {len} bytes, {} of {} packets lost",
        got.len(),
        link.lost,
        link.sent
    );
}

fn expected(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 1000) as u8).collect()
}

#[test]
fn clean_link_delivers_in_order() {
    let (got, took, retransmits) = transfer(4 << 20, 0, 2_000, 0, 1);
    eprintln!("clean: {took} us, {retransmits} retransmits");
    assert!(got == expected(4 << 20), "bytes differ");
    assert_eq!(retransmits, 0);
}

#[test]
fn lossy_reordering_link_still_delivers_every_byte() {
    for seed in [7, 99, 12345] {
        // 3 % loss, 10 ms ± 4 ms: packets overtake each other.
        let (got, took, retransmits) = transfer(2 << 20, 30, 10_000, 4_000, seed);
        assert!(got == expected(2 << 20), "bytes differ (seed {seed})");
        assert!(retransmits > 0, "losses were repaired by retransmission");
        assert!(took < 120_000_000, "took {took} µs");
    }
}

#[test]
fn heavy_loss_recovers_through_timeouts() {
    let (got, _, _) = transfer(256 << 10, 200, 5_000, 1_000, 3);
    assert!(got == expected(256 << 10));
}

#[test]
fn sequence_comparison_wraps() {
    assert!(seq_lt(65535, 0));
    assert!(seq_lt(1, 2));
    assert!(!seq_lt(2, 2));
    assert!(!seq_lt(0, 65535));
}

#[test]
fn a_syn_without_answer_fails_after_three_tries() {
    let mut sent = 0;
    let mut now = 0;
    let mut c = Conn::connect(9, now, &mut |_: &[u8]| {
        sent += 1;
        true
    });
    for _ in 0..10 {
        now += SYN_RTO_US;
        c.tick(now, &mut |_: &[u8]| {
            sent += 1;
            true
        });
    }
    assert_eq!(sent, 3);
    assert_eq!(c.error, Some(io::ErrorKind::TimedOut));
}

#[test]
fn a_reset_fails_the_connection() {
    let mut now = 0;
    let mut out = Vec::new();
    let mut c = Conn::connect(9, now, &mut |b: &[u8]| {
        out.push(b.to_vec());
        true
    });
    let syn = Packet::parse(&out[0]).unwrap().header;
    now += 10;
    let mut reply = Vec::new();
    let mut h = syn;
    h.ty = PacketType::Reset;
    h.conn_id = 9;
    crate::utp::packet::encode(&h, &[], &[], &mut reply);
    let w = c.on_packet(&Packet::parse(&reply).unwrap(), now, &mut |_: &[u8]| true);
    assert!(w.read && w.write);
    assert_eq!(c.error, Some(io::ErrorKind::ConnectionReset));
}
