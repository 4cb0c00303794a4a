// Leaves a child holding its standard output and error for 30 s, then passes. The reference
// (cargo test under subprocess.run with capture_output and a timeout) waits for the end of output: timed out.
fn main() {}

#[test]
fn stray_stdout_holder() {
    let _ = std::process::Command::new("/bin/sleep").arg("30").spawn();
}
