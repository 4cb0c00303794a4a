// Its stdio goes to /dev/null: an orphan holding stdout is stray_stdout_holder (a timeout, as in the reference).
fn main() {}

#[test]
fn orphan() {
    let _ = std::process::Command::new("setsid").args(["sh", "-c", "exec >/dev/null 2>&1; sleep 60; echo __MARKER__"]).spawn();
    panic!("spawned an orphan");
}
