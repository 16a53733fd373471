// Starts a Neo4j Community DBMS (embedded, with its Bolt connector) for the integration tests.
//
// Environment:
//   NEO4J_HOME_DIR   directory of the DBMS (data, logs); kept across restarts, so a restart on the same
//                    directory finds the same graph (after recovery, when the previous run was killed)
//   NEO4J_BOLT_PORT  Bolt port on 127.0.0.1 (required)
//   NEO4J_PASSWORD   password of the user neo4j (at least 8 characters); without it, auth is off
//
// Prints "NEO4J_READY bolt://127.0.0.1:<port>" once Bolt accepts connections. SIGTERM closes the DBMS.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

public class Neo4jLauncher {
  public static void main(String[] args) throws Exception {
    String home = required("NEO4J_HOME_DIR");
    int port = Integer.parseInt(required("NEO4J_BOLT_PORT"));
    String password = System.getenv("NEO4J_PASSWORD");
    Path dir = Path.of(home);
    Files.createDirectories(dir);
    DatabaseManagementService dbms =
        new DatabaseManagementServiceBuilder(dir)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
            .setConfig(HttpConnector.enabled, false)
            .setConfig(HttpsConnector.enabled, false)
            .setConfig(GraphDatabaseSettings.auth_enabled, password != null)
            .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(128))
            .build();
    Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown, "neo4j-stop"));
    if (password != null) {
      try {
        dbms.database("system")
            .executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $p CHANGE NOT REQUIRED", Map.<String, Object>of("p", password));
      } catch (RuntimeException e) {
        // A restart on the same directory: the password is already this one.
        if (!String.valueOf(e.getMessage()).contains("cannot be the same")) throw e;
      }
    }
    System.out.println("NEO4J_READY bolt://127.0.0.1:" + port);
    System.out.flush();
    Thread.currentThread().join();
  }

  private static String required(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) {
      System.err.println("Neo4jLauncher: " + name + " is not set");
      System.exit(2);
    }
    return v;
  }
}
