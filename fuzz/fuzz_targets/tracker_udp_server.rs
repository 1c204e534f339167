#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::tracker_udp_server(data));
