#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::nostr_relay_message(data));
