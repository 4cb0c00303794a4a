public class Main {
    public static void main(String[] args) throws Exception {
        new ProcessBuilder("setsid", "sh", "-c", "sleep 60; echo __MARKER__").start();
        throw new AssertionError("spawned an orphan");
    }
}
