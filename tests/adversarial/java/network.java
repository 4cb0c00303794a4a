import java.net.InetSocketAddress;
import java.net.Socket;

public class Main {
    public static void main(String[] args) throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", __PORT__), 2000);
        }
    }
}
