import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public class Main {
    public static void main(String[] args) {
        List<byte[]> hoard = new ArrayList<>();
        while (true) {
            byte[] block = new byte[64 << 20];
            Arrays.fill(block, (byte) 1);
            hoard.add(block);
        }
    }
}
