fn main() {}

#[test]
fn escape_write() {
    let removed = std::fs::remove_file("__CANARY__").is_ok();
    let written = std::fs::write("__CANARY_DIR__/intruder.txt", "escaped").is_ok();
    assert!(removed || written, "contained");
}
