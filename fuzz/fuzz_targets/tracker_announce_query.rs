#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::tracker_announce_query(data));
