#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::ssdp_reply(data));
