// Leaves a child holding its standard output and error for 30 s, then exits 0. The reference
// (subprocess.run with capture_output and a timeout) waits for the end of output: timed out.
public class Main {
    public static void main(String[] args) throws Exception {
        new ProcessBuilder("/bin/sleep", "30").redirectOutput(ProcessBuilder.Redirect.INHERIT)
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
