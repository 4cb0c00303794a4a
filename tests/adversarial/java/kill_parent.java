public class Main {
    public static void main(String[] args) throws Exception {
        ProcessHandle.current().parent().ifPresent(ProcessHandle::destroyForcibly);
        new ProcessBuilder("kill", "-9", "1").start().waitFor();
        new ProcessBuilder("kill", "-9", "-1").start().waitFor();
        Thread.sleep(200);
        throw new AssertionError("still alive");
    }
}
