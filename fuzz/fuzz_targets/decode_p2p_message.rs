//! Any bytes: a p2p sync request or response decodes canonically or is refused, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_p2p::wire::{Request, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::decode(data) {
        let again = request.encode().expect("a decoded request re-encodes");
        assert_eq!(again, data, "request encoding is not canonical");
    }
    if let Ok(response) = Response::decode(data) {
        let again = response.encode().expect("a decoded response re-encodes");
        assert_eq!(again, data, "response encoding is not canonical");
    }
});
