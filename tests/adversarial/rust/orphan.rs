fn main() {}

#[test]
fn orphan() {
    let _ = std::process::Command::new("setsid").args(["sh", "-c", "sleep 60; echo __MARKER__"]).spawn();
    panic!("spawned an orphan");
}
