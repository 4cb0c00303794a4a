use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

fn main() {}

#[test]
fn network() {
    let address: SocketAddr = "127.0.0.1:__PORT__".parse().unwrap();
    TcpStream::connect_timeout(&address, Duration::from_secs(2)).unwrap();
}
