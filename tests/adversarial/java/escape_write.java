import java.nio.file.Files;
import java.nio.file.Path;

public class Main {
    public static void main(String[] args) {
        boolean breached = false;
        try {
            Files.delete(Path.of("__CANARY__"));
            breached = true;
        } catch (Exception e) {
        }
        try {
            Files.writeString(Path.of("__CANARY_DIR__", "intruder.txt"), "escaped");
            breached = true;
        } catch (Exception e) {
        }
        if (!breached) throw new AssertionError("contained");
    }
}
