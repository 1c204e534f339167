#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::web_seed_content_range(data));
