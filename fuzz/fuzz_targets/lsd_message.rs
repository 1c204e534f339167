#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::lsd_message(data));
