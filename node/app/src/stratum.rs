//! Where to point a mining device (re-exported from `p2share-api`, which serves it too).

pub use p2share_api::stratum::{lan_address, stratum_line, stratum_urls};
