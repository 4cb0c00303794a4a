import java.io.FileOutputStream;

public class Main {
    public static void main(String[] args) throws Exception {
        byte[] chunk = new byte[1 << 20];
        try (FileOutputStream out = new FileOutputStream("fill.bin")) {
            while (true) out.write(chunk);
        }
    }
}
