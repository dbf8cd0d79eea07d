//! Where to point a mining device: the `stratum+tcp://` URLs of the node's Stratum server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

/// This machine's address on its LAN: the source address of the default route (a UDP socket
/// "connected" to an outside address sends nothing). `None` without a route.
pub fn lan_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    // TEST-NET-1: never reached, only routed.
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// The URLs a device can use for a server bound at `bound`: the LAN address first when it
/// listens on every interface (devices are on the LAN), then the bound or loopback one.
pub fn stratum_urls(bound: SocketAddr) -> Vec<String> {
    let port = bound.port();
    let url = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => format!("stratum+tcp://[{v6}]:{port}"),
        IpAddr::V4(v4) => format!("stratum+tcp://{v4}:{port}"),
    };
    if bound.ip().is_unspecified() {
        let mut urls: Vec<String> = lan_address().into_iter().map(url).collect();
        urls.push(url(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        urls
    } else {
        vec![url(bound.ip())]
    }
}

/// The line the binaries print: where to point a device and what to use as its user name.
pub fn stratum_line(bound: SocketAddr, address: Option<&str>) -> String {
    let urls = stratum_urls(bound);
    let first = urls.first().cloned().unwrap_or_default();
    match address {
        Some(a) => format!(
            "point mining devices (Bitaxe, NerdMiner, …) at {first} with user {a}.<worker name> (any password); another address as user pays that address"
        ),
        None => format!(
            "point mining devices (Bitaxe, NerdMiner, …) at {first} with your address as user (address.<worker name>)"
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_server_on_every_interface_is_reached_on_loopback_and_the_lan() {
        let urls = stratum_urls("0.0.0.0:3333".parse().unwrap());
        assert_eq!(urls.last().unwrap(), "stratum+tcp://127.0.0.1:3333");
        assert!(urls
            .iter()
            .all(|u| u.starts_with("stratum+tcp://") && u.ends_with(":3333")));
        assert_eq!(
            stratum_urls("192.168.1.5:4000".parse().unwrap()),
            vec!["stratum+tcp://192.168.1.5:4000"]
        );
        assert_eq!(
            stratum_urls("[::1]:3333".parse().unwrap()),
            vec!["stratum+tcp://[::1]:3333"]
        );
        let line = stratum_line("127.0.0.1:3333".parse().unwrap(), Some("bcrt1qxyz"));
        assert!(
            line.contains("stratum+tcp://127.0.0.1:3333 with user bcrt1qxyz.<worker name>"),
            "{line}"
        );
    }
}
