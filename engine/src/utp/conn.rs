//! One uTP connection without I/O: packets and time in, datagrams out through a callback,
//! bytes between the application's buffers. `STATE.md` beside this file is its state note.

use std::collections::VecDeque;
use std::io;

use bytes::{Buf, BytesMut};

use super::congestion::Ledbat;
use super::packet::{self, Header, Packet, PacketType, HEADER_LEN, MAX_SACK_BYTES};

/// Payload per packet: 1400 bytes keeps a packet (with IPv6, UDP and uTP headers) under a
/// 1500-byte Ethernet MTU and well under what libtorrent's receive buffer takes.
pub const MSS: usize = 1400;
/// Bytes we buffer for the application to read (our advertised window at most).
pub const RECV_BUF: usize = 1 << 20;
/// Bytes of payload the application may queue before `write` waits.
pub const SEND_BUF: usize = 1 << 20;
/// Packets queued or in flight at once (far inside the 16-bit sequence space).
const MAX_OUTQ: usize = 2048;
/// Out-of-order packets we keep, counted from the next expected one.
const MAX_REORDER: usize = 1024;
/// Largest congestion window.
const MAX_CWND: usize = 8 << 20;
/// SYN retransmissions before a connect fails, and the time between them.
const SYN_TRIES: u8 = 3;
const SYN_RTO_US: u64 = 1_000_000;
/// Consecutive retransmission timeouts before the connection is given up.
const MAX_TIMEOUTS: u32 = 7;
/// Silence after which a STATE keeps NAT mappings and the peer's timer alive.
const KEEPALIVE_US: u64 = 29_000_000;
/// Silence from the peer after which the connection is dead.
const IDLE_US: u64 = 120_000_000;
/// Packets (sent at least once, not yet acknowledged) after which fast retransmit counts a
/// hole as lost: three later ones selectively acknowledged, or three duplicate ACKs.
const DUP_ACKS: usize = 3;

/// Wrapping "a < b" on sequence numbers.
pub fn seq_lt(a: u16, b: u16) -> bool {
    let d = b.wrapping_sub(a);
    d != 0 && d < 0x8000
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// We sent a SYN; `tries` so far.
    SynSent {
        tries: u8,
    },
    Connected,
    /// Reset, timed out, or both sides finished; the socket forgets it.
    Closed,
}

/// What a call changed, for the owner to wake tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wake {
    pub read: bool,
    pub write: bool,
}

impl std::ops::BitOrAssign for Wake {
    fn bitor_assign(&mut self, o: Wake) {
        self.read |= o.read;
        self.write |= o.write;
    }
}

/// A packet we sent (or will send), kept encoded until acknowledged.
struct OutPkt {
    seq: u16,
    buf: Vec<u8>,
    /// When it was last sent (µs), and how often.
    sent_at: u64,
    sends: u32,
    /// Selectively acknowledged (still held: the cumulative ACK has not passed it).
    acked: bool,
    /// Counted lost: waits to be sent again, not in flight.
    lost: bool,
    /// Fast-retransmitted once already (later losses wait for the timer).
    fast_resent: bool,
}

impl OutPkt {
    fn payload_len(&self) -> usize {
        // The FIN and DATA packets we build carry no extension.
        self.buf.len() - HEADER_LEN
    }
}

pub struct Conn {
    pub state: State,
    pub recv_id: u16,
    pub send_id: u16,
    /// Next sequence number to use, and the last one received in order.
    seq_nr: u16,
    ack_nr: u16,
    mss: usize,
    // --- send side ---
    outq: VecDeque<OutPkt>,
    /// Index in `outq` of the first packet never sent.
    next_send: usize,
    /// Packets marked lost and not yet re-sent.
    lost: usize,
    /// Payload bytes in flight (sent, not acknowledged, not counted lost).
    inflight: usize,
    /// Payload bytes queued (sent or not) and not acknowledged.
    queued: usize,
    fin_queued: bool,
    fin_acked: bool,
    peer_wnd: usize,
    cc: Ledbat,
    dup_acks: usize,
    /// Loss recovery: no second halving until the ACKs pass `recover_until`.
    recovering: bool,
    recover_until: u16,
    timeouts: u32,
    /// When the oldest packet in flight times out.
    rto_at: Option<u64>,
    last_send: u64,
    /// Encoded-packet buffers to reuse.
    pool: Vec<Vec<u8>>,
    // --- receive side ---
    rbuf: BytesMut,
    /// Packets past the next expected: `reorder[i]` is `ack_nr + 2 + i`.
    reorder: VecDeque<Option<(Vec<u8>, bool)>>,
    reorder_bytes: usize,
    /// The peer's FIN arrived in order: no more data.
    eof: bool,
    pub ack_due: bool,
    /// Our delay sample of the peer's last packet, echoed back.
    reply_diff: u32,
    last_recv: u64,
    wnd_advertised: usize,
    pub error: Option<io::ErrorKind>,
    /// The application shut the write side (FIN queued) / dropped every handle.
    pub write_closed: bool,
    pub detached: bool,
    /// Counters.
    pub retransmits: u64,
}

impl Conn {
    /// The initiator's side: returns the connection and sends the SYN.
    pub fn connect(recv_id: u16, now: u64, tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized)) -> Conn {
        // The SYN takes sequence number 1.
        let mut c = Conn::new(recv_id, recv_id.wrapping_add(1), 2, 0, now);
        c.state = State::SynSent { tries: 0 };
        c.send_syn(now, tx);
        c
    }

    /// The acceptor's side of `syn`: answers with a STATE.
    pub fn accept(
        syn: &Header,
        seq_nr: u16,
        now: u64,
        tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized),
    ) -> Conn {
        let mut c = Conn::new(
            syn.conn_id.wrapping_add(1),
            syn.conn_id,
            seq_nr,
            syn.seq,
            now,
        );
        c.state = State::Connected;
        // libtorrent's SYN says window 0; its first packet after that says the real one.
        c.peer_wnd = if syn.wnd == 0 {
            16 * MSS
        } else {
            syn.wnd as usize
        };
        c.reply_diff = (now as u32).wrapping_sub(syn.ts);
        c.send_state(now, tx);
        c
    }

    fn new(recv_id: u16, send_id: u16, seq_nr: u16, ack_nr: u16, now: u64) -> Conn {
        Conn {
            state: State::Closed,
            recv_id,
            send_id,
            seq_nr,
            ack_nr,
            mss: MSS,
            outq: VecDeque::new(),
            next_send: 0,
            lost: 0,
            inflight: 0,
            queued: 0,
            fin_queued: false,
            fin_acked: false,
            peer_wnd: MSS,
            cc: Ledbat::new(MSS, MAX_CWND),
            dup_acks: 0,
            recovering: false,
            recover_until: 0,
            timeouts: 0,
            rto_at: None,
            last_send: now,
            pool: Vec::new(),
            rbuf: BytesMut::new(),
            reorder: VecDeque::new(),
            reorder_bytes: 0,
            eof: false,
            ack_due: false,
            reply_diff: 0,
            last_recv: now,
            wnd_advertised: RECV_BUF,
            error: None,
            write_closed: false,
            detached: false,
            retransmits: 0,
        }
    }

    fn header(&self, ty: PacketType, seq: u16, now: u64) -> Header {
        Header {
            ty,
            conn_id: if ty == PacketType::Syn {
                self.recv_id
            } else {
                self.send_id
            },
            ts: now as u32,
            ts_diff: self.reply_diff,
            wnd: self.free_window() as u32,
            seq,
            ack: self.ack_nr,
        }
    }

    fn free_window(&self) -> usize {
        RECV_BUF.saturating_sub(self.rbuf.len() + self.reorder_bytes)
    }

    fn send_syn(&mut self, now: u64, tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized)) {
        let mut b = [0u8; HEADER_LEN];
        self.header(PacketType::Syn, 1, now).write(0, &mut b);
        tx(&b);
        self.last_send = now;
        if let State::SynSent { tries } = &mut self.state {
            *tries += 1;
        }
    }

    /// Sends an ACK now (a STATE packet with a selective ACK when packets are missing).
    pub fn send_state(&mut self, now: u64, tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized)) {
        let mut mask = [0u8; MAX_SACK_BYTES];
        let mut len = 0;
        for (i, slot) in self.reorder.iter().take(MAX_SACK_BYTES * 8).enumerate() {
            if slot.is_some() {
                mask[i / 8] |= 1 << (i % 8);
                len = i / 8 + 1;
            }
        }
        let len = len.div_ceil(4) * 4;
        let mut b = [0u8; HEADER_LEN + 2 + MAX_SACK_BYTES];
        let h = self.header(PacketType::State, self.seq_nr, now);
        h.write(if len == 0 { 0 } else { 1 }, &mut b);
        let mut n = HEADER_LEN;
        if len > 0 {
            b[n] = 0;
            b[n + 1] = len as u8;
            b[n + 2..n + 2 + len].copy_from_slice(&mask[..len]);
            n += 2 + len;
        }
        if tx(&b[..n]) {
            self.ack_due = false;
            self.wnd_advertised = h.wnd as usize;
            self.last_send = now;
        }
    }

    // ------------------------------------------------------------------ application side

    /// Bytes readable now.
    pub fn readable(&self) -> usize {
        self.rbuf.len()
    }

    /// Whether reading has reached the end (FIN received, everything read) or an error.
    pub fn read_done(&self) -> bool {
        self.rbuf.is_empty() && (self.eof || self.error.is_some() || self.state == State::Closed)
    }

    /// Copies up to `out.len()` bytes; sends a window update when reading opened the window
    /// a lot since the last one the peer saw.
    pub fn read(
        &mut self,
        out: &mut [u8],
        now: u64,
        tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized),
    ) -> usize {
        let n = out.len().min(self.rbuf.len());
        out[..n].copy_from_slice(&self.rbuf[..n]);
        self.rbuf.advance(n);
        if self.rbuf.is_empty() {
            // Keeps the allocation: `BytesMut` reuses its buffer once empty.
            self.rbuf.clear();
        }
        let free = self.free_window();
        if self.state == State::Connected && !self.eof && free >= self.wnd_advertised + RECV_BUF / 4
        {
            self.send_state(now, tx);
        }
        n
    }

    /// Whether the peer's FIN arrived (in order).
    pub fn eof_seen(&self) -> bool {
        self.eof
    }

    /// Room for more payload.
    pub fn writable(&self) -> bool {
        self.queued < SEND_BUF && self.outq.len() < MAX_OUTQ && !self.fin_queued
    }

    /// Queues what fits of `data` as DATA packets and sends what the window allows.
    pub fn write(
        &mut self,
        data: &[u8],
        now: u64,
        tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized),
    ) -> usize {
        let mut done = 0;
        while done < data.len() && self.writable() {
            // Fill up the last packet if it was never sent (small messages coalesce).
            if self.next_send < self.outq.len() {
                let mss = self.mss;
                let last = self.outq.back_mut().expect("next_send < len");
                let room = mss.saturating_sub(last.payload_len());
                if room > 0 && last.buf[0] >> 4 == PacketType::Data as u8 {
                    let n = room.min(data.len() - done);
                    last.buf.extend_from_slice(&data[done..done + n]);
                    done += n;
                    self.queued += n;
                    continue;
                }
            }
            let n = self.mss.min(data.len() - done);
            let mut buf = self.pool.pop().unwrap_or_default();
            buf.clear();
            buf.resize(HEADER_LEN, 0);
            self.header(PacketType::Data, self.seq_nr, now)
                .write(0, &mut buf);
            buf.extend_from_slice(&data[done..done + n]);
            self.push_packet(buf);
            done += n;
            self.queued += n;
        }
        self.flush(now, tx);
        done
    }

    fn push_packet(&mut self, buf: Vec<u8>) {
        self.outq.push_back(OutPkt {
            seq: self.seq_nr,
            buf,
            sent_at: 0,
            sends: 0,
            acked: false,
            lost: false,
            fast_resent: false,
        });
        self.seq_nr = self.seq_nr.wrapping_add(1);
    }

    /// Queues our FIN after the data (once; when still connecting, once connected).
    pub fn shutdown(&mut self, now: u64, tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized)) {
        self.write_closed = true;
        self.queue_fin(now, tx);
    }

    fn queue_fin(&mut self, now: u64, tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized)) {
        if self.fin_queued || self.state != State::Connected {
            return;
        }
        self.fin_queued = true;
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.clear();
        buf.resize(HEADER_LEN, 0);
        self.header(PacketType::Fin, self.seq_nr, now)
            .write(0, &mut buf);
        self.push_packet(buf);
        self.flush(now, tx);
    }

    /// Whether everything we queued (FIN included) is acknowledged.
    pub fn send_done(&self) -> bool {
        self.outq.is_empty()
    }

    /// Whether the socket may forget this connection.
    pub fn finished(&self) -> bool {
        self.state == State::Closed
            || (self.detached && (self.fin_acked || self.error.is_some()) && self.outq.is_empty())
    }

    // ------------------------------------------------------------------ sending

    /// Sends lost packets again, then new ones, as far as the window allows.
    pub fn flush(&mut self, now: u64, tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized)) {
        if self.state != State::Connected {
            return;
        }
        let window = self.cc.window().min(self.peer_wnd);
        if self.lost > 0 {
            for i in 0..self.next_send {
                if self.lost == 0 {
                    break;
                }
                let p = &self.outq[i];
                if !p.lost || p.acked {
                    continue;
                }
                let len = p.payload_len();
                if self.inflight > 0 && self.inflight + len > window {
                    return;
                }
                if !self.transmit(i, now, tx) {
                    return;
                }
                self.outq[i].lost = false;
                self.lost -= 1;
                self.inflight += len;
                self.retransmits += 1;
            }
        }
        while self.next_send < self.outq.len() {
            let len = self.outq[self.next_send].payload_len();
            if self.inflight > 0 && self.inflight + len > window {
                break;
            }
            // A closed window is probed by the timer, one packet.
            if self.inflight == 0 && len > self.peer_wnd && self.peer_wnd < self.mss {
                self.rto_at.get_or_insert(now + self.cc.rto());
                break;
            }
            if !self.transmit(self.next_send, now, tx) {
                break;
            }
            self.next_send += 1;
            self.inflight += len;
        }
    }

    /// Puts fresh header fields into packet `i` and sends it.
    fn transmit(
        &mut self,
        i: usize,
        now: u64,
        tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized),
    ) -> bool {
        let (ts_diff, wnd, ack) = (self.reply_diff, self.free_window() as u32, self.ack_nr);
        let p = &mut self.outq[i];
        p.buf[4..8].copy_from_slice(&(now as u32).to_be_bytes());
        p.buf[8..12].copy_from_slice(&ts_diff.to_be_bytes());
        p.buf[12..16].copy_from_slice(&wnd.to_be_bytes());
        p.buf[18..20].copy_from_slice(&ack.to_be_bytes());
        if !tx(&p.buf) {
            return false;
        }
        p.sent_at = now;
        p.sends += 1;
        self.last_send = now;
        self.ack_due = false;
        self.wnd_advertised = wnd as usize;
        self.rto_at.get_or_insert(now + self.cc.rto());
        true
    }

    // ------------------------------------------------------------------ receiving

    /// Handles a packet addressed to this connection.
    pub fn on_packet(
        &mut self,
        p: &Packet<'_>,
        now: u64,
        tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized),
    ) -> Wake {
        let h = &p.header;
        let mut wake = Wake::default();
        self.last_recv = now;
        self.reply_diff = (now as u32).wrapping_sub(h.ts);
        match (self.state, h.ty) {
            (State::Closed, _) => return wake,
            (_, PacketType::Reset) => {
                self.fail(io::ErrorKind::ConnectionReset);
                return Wake {
                    read: true,
                    write: true,
                };
            }
            (State::SynSent { .. }, PacketType::State | PacketType::Data | PacketType::Fin)
                if h.ack == 1 =>
            {
                self.state = State::Connected;
                // The acceptor's STATE carries the sequence number of its first DATA (a
                // DATA or FIN answering our SYN is that first packet itself).
                self.ack_nr = h.seq.wrapping_sub(1);
                self.peer_wnd = h.wnd as usize;
                if self.write_closed {
                    self.queue_fin(now, tx);
                }
                wake = Wake {
                    read: true,
                    write: true,
                };
                if h.ty == PacketType::State {
                    return wake;
                }
            }
            (State::SynSent { .. }, _) => return wake,
            (State::Connected, PacketType::Syn) => {
                // Our STATE answering it was lost.
                self.send_state(now, tx);
                return wake;
            }
            _ => {}
        }
        wake |= self.on_ack(p, now);
        if matches!(h.ty, PacketType::Data | PacketType::Fin) {
            wake.read |= self.on_data(h.seq, p.payload, h.ty == PacketType::Fin);
        }
        self.flush(now, tx);
        wake
    }

    fn on_ack(&mut self, p: &Packet<'_>, now: u64) -> Wake {
        let h = &p.header;
        // A window update is not a duplicate ACK (as in TCP).
        let same_window = h.wnd as usize == self.peer_wnd;
        self.peer_wnd = h.wnd as usize;
        let Some(front) = self.outq.front().map(|f| f.seq) else {
            return Wake::default();
        };
        let inflight_before = self.inflight;
        let mut acked_bytes = 0;
        let mut rtt = None;
        // Cumulative: everything up to `ack`, if `ack` names a packet we sent.
        let popped = if self.next_send > 0 && !seq_lt(h.ack, front) {
            let n = usize::from(h.ack.wrapping_sub(front)) + 1;
            if n <= self.next_send {
                n
            } else {
                0
            }
        } else {
            0
        };
        for _ in 0..popped {
            let Some(pkt) = self.outq.pop_front() else {
                break;
            };
            let len = pkt.payload_len();
            if !pkt.acked {
                acked_bytes += len;
                if pkt.lost {
                    self.lost -= 1;
                } else {
                    self.inflight -= len;
                }
                if pkt.sends == 1 {
                    rtt = Some(now.saturating_sub(pkt.sent_at));
                }
            }
            self.queued -= len;
            if pkt.buf[0] >> 4 == PacketType::Fin as u8 {
                self.fin_acked = true;
            }
            if self.pool.len() < 64 {
                self.pool.push(pkt.buf);
            }
        }
        self.next_send -= popped;
        let mut newly_lost = false;
        if let Some(mask) = p.sack {
            let base = h.ack.wrapping_add(1);
            if self.outq.front().map(|f| f.seq) == Some(base) {
                let mut highest = None;
                for s in packet::sacked(h.ack, mask) {
                    let i = usize::from(s.wrapping_sub(base));
                    if i >= self.next_send {
                        break;
                    }
                    highest = Some(i);
                    let pkt = &mut self.outq[i];
                    if !pkt.acked {
                        pkt.acked = true;
                        let len = pkt.payload_len();
                        acked_bytes += len;
                        if pkt.lost {
                            pkt.lost = false;
                            self.lost -= 1;
                        } else {
                            self.inflight -= len;
                        }
                        if pkt.sends == 1 {
                            rtt = Some(now.saturating_sub(pkt.sent_at));
                        }
                    }
                }
                // A hole with three acknowledged packets after it is lost.
                if let Some(top) = highest {
                    let mut after = 0;
                    for i in (0..=top).rev() {
                        let pkt = &mut self.outq[i];
                        if pkt.acked {
                            after += 1;
                        } else if after >= DUP_ACKS && !pkt.lost && !pkt.fast_resent {
                            pkt.lost = true;
                            pkt.fast_resent = true;
                            self.lost += 1;
                            self.inflight -= pkt.payload_len();
                            newly_lost = true;
                        }
                    }
                }
            }
        }
        if popped > 0 {
            self.dup_acks = 0;
            self.timeouts = 0;
            if self.recovering && !seq_lt(h.ack, self.recover_until) {
                self.recovering = false;
            }
        } else if h.ty == PacketType::State && acked_bytes == 0 && same_window && self.next_send > 0
        {
            self.dup_acks += 1;
            if self.dup_acks == DUP_ACKS {
                if let Some(pkt) = self.outq.front_mut() {
                    if !pkt.lost && !pkt.acked && !pkt.fast_resent && pkt.sends > 0 {
                        pkt.lost = true;
                        pkt.fast_resent = true;
                        self.lost += 1;
                        self.inflight -= pkt.payload_len();
                        newly_lost = true;
                    }
                }
            }
        }
        if let Some(r) = rtt {
            self.cc.on_rtt(r);
        }
        if newly_lost && !self.recovering {
            self.cc.on_loss();
            self.recovering = true;
            self.recover_until = self.seq_nr.wrapping_sub(1);
        }
        if acked_bytes > 0 {
            let window = self.cc.window().min(self.peer_wnd);
            let limited = inflight_before + self.mss > window;
            self.cc.on_ack(acked_bytes, h.ts_diff, now, limited);
            self.rto_at = (self.inflight > 0).then(|| now + self.cc.rto());
        }
        // A waiting writer is woken once half the send queue is free, so it hands over
        // large slices rather than one packet's worth per ACK.
        Wake {
            read: false,
            write: popped > 0 && self.queued <= SEND_BUF / 2,
        }
    }

    /// Returns whether the application has something new to read (data or the end).
    fn on_data(&mut self, seq: u16, payload: &[u8], fin: bool) -> bool {
        self.ack_due = true;
        if self.eof {
            return false;
        }
        let d = usize::from(seq.wrapping_sub(self.ack_nr));
        if d == 0 || d >= 0x8000 {
            return false; // already have it
        }
        if d == 1 {
            if !self.deliver(payload, fin) {
                return false;
            }
            while !self.eof {
                match self.reorder.pop_front() {
                    Some(Some((data, fin))) => {
                        self.reorder_bytes -= data.len();
                        self.deliver(&data, fin);
                    }
                    // The next expected packet is still missing; popping its empty slot left
                    // the deque indexed from `ack_nr + 2` again.
                    Some(None) => break,
                    None => break,
                }
            }
            // Trailing empty slots mean nothing.
            while matches!(self.reorder.back(), Some(None)) {
                self.reorder.pop_back();
            }
            return true;
        }
        let i = d - 2;
        if i >= MAX_REORDER || payload.len() > self.free_window() {
            return false;
        }
        if self.reorder.len() <= i {
            self.reorder.resize_with(i + 1, || None);
        }
        if self.reorder[i].is_none() {
            self.reorder_bytes += payload.len();
            self.reorder[i] = Some((payload.to_vec(), fin));
        }
        false
    }

    /// Appends the next in-order packet; false when it does not fit (the peer ignored our
    /// window), so it is not acknowledged.
    fn deliver(&mut self, payload: &[u8], fin: bool) -> bool {
        if self.rbuf.len() + payload.len() > RECV_BUF + self.mss {
            return false;
        }
        self.rbuf.extend_from_slice(payload);
        self.ack_nr = self.ack_nr.wrapping_add(1);
        if fin {
            self.eof = true;
            self.reorder.clear();
            self.reorder_bytes = 0;
        }
        true
    }

    /// Ends the connection without a word to the peer (our socket is closing).
    pub fn abort(&mut self) {
        self.fail(io::ErrorKind::ConnectionAborted);
    }

    fn fail(&mut self, kind: io::ErrorKind) {
        tracing::debug!(
            recv_id = self.recv_id,
            ?kind,
            queued = self.queued,
            inflight = self.inflight,
            lost = self.lost,
            outq = self.outq.len(),
            next_send = self.next_send,
            peer_wnd = self.peer_wnd,
            cwnd = self.cc.window(),
            rto = self.cc.rto(),
            "uTP connection failed"
        );
        self.error.get_or_insert(kind);
        self.state = State::Closed;
        self.outq.clear();
        self.next_send = 0;
        self.inflight = 0;
        self.lost = 0;
        self.queued = 0;
    }

    // ------------------------------------------------------------------ time

    /// Timers: SYN retries, retransmission timeout, keep-alive, idle death, pending ACK.
    pub fn tick(&mut self, now: u64, tx: &mut (impl FnMut(&[u8]) -> bool + ?Sized)) -> Wake {
        match self.state {
            State::Closed => return Wake::default(),
            State::SynSent { tries } => {
                if now.saturating_sub(self.last_send) >= SYN_RTO_US {
                    if tries >= SYN_TRIES {
                        self.fail(io::ErrorKind::TimedOut);
                        return Wake {
                            read: true,
                            write: true,
                        };
                    }
                    self.send_syn(now, tx);
                }
                return Wake::default();
            }
            State::Connected => {}
        }
        if now.saturating_sub(self.last_recv) >= IDLE_US {
            self.fail(io::ErrorKind::TimedOut);
            return Wake {
                read: true,
                write: true,
            };
        }
        if let Some(at) = self.rto_at {
            if now >= at {
                self.rto_at = None;
                if self.next_send > 0 || self.lost > 0 {
                    self.timeouts += 1;
                    if self.timeouts > MAX_TIMEOUTS {
                        self.fail(io::ErrorKind::TimedOut);
                        return Wake {
                            read: true,
                            write: true,
                        };
                    }
                    self.cc.on_timeout();
                    tracing::debug!(
                        recv_id = self.recv_id,
                        timeouts = self.timeouts,
                        inflight = self.inflight,
                        lost = self.lost,
                        outq = self.outq.len(),
                        next_send = self.next_send,
                        peer_wnd = self.peer_wnd,
                        front = self.outq.front().map(|p| p.seq),
                        rto = self.cc.rto(),
                        "uTP retransmission timeout"
                    );
                    for p in self.outq.iter_mut().take(self.next_send) {
                        if !p.acked && !p.lost {
                            p.lost = true;
                            self.lost += 1;
                        }
                    }
                    self.inflight = 0;
                    self.recovering = false;
                }
                // Also the closed-window probe: one packet whatever the window says.
                if self.lost == 0 && self.next_send < self.outq.len() {
                    let len = self.outq[self.next_send].payload_len();
                    if self.transmit(self.next_send, now, tx) {
                        self.next_send += 1;
                        self.inflight += len;
                    }
                }
                if self.next_send > 0 || self.lost > 0 {
                    self.rto_at.get_or_insert(now + self.cc.rto());
                }
            }
        }
        self.flush(now, tx);
        if self.ack_due || now.saturating_sub(self.last_send) >= KEEPALIVE_US {
            self.send_state(now, tx);
        }
        Wake::default()
    }

    /// Delivered in order to the application so far; for tests and statistics.
    pub fn srtt_us(&self) -> u64 {
        self.cc.srtt()
    }
}

#[cfg(test)]
mod tests;
