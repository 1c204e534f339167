#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::federation_catalog(data));
