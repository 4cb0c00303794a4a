import java.nio.file.Files;
import java.nio.file.Path;

public class Main {
    public static void main(String[] args) {
        int written = 0;
        for (String path : new String[] {"/dev/octopack-fill", "/octopack-fill"}) {
            try {
                Files.write(Path.of(path), new byte[1 << 20]);
                written++;
            } catch (Exception e) {
                // read-only: contained
            }
        }
        if (written == 0) {
            throw new RuntimeException("contained");
        }
    }
}
