import java.nio.file.Files;
import java.nio.file.Path;

public class Main {
    public static void main(String[] args) {
        int readable = 0;
        for (String path : "__READ_TARGETS__".split(":")) {
            try {
                Files.readAllBytes(Path.of(path));
                readable++;
            } catch (Exception e) {
                // not visible or not readable: contained
            }
        }
        if (readable == 0) {
            throw new RuntimeException("contained");
        }
    }
}
