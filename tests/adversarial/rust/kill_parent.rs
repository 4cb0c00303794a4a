fn main() {}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn getppid() -> i32;
}

#[test]
fn kill_parent() {
    unsafe {
        kill(getppid(), 9);
        kill(1, 9);
        kill(-1, 9);
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    panic!("still alive");
}
