import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;

public class Main {
    public static void main(String[] args) {
        int connected = 0;
        for (String path : "__SOCKETS__".split(":")) {
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                channel.connect(UnixDomainSocketAddress.of(path));
                connected++;
            } catch (Exception e) {
                // no such socket here: contained
            }
        }
        if (connected == 0) {
            throw new RuntimeException("contained");
        }
    }
}
