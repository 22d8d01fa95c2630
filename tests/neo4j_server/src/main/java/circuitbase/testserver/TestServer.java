package circuitbase.testserver;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.kernel.internal.Version;

/**
 * A Neo4j 5 DBMS for circuitbase's tests, configured as a real deployment would be:
 * Bolt on 127.0.0.1 only, authentication on, the password from the environment.
 *
 * Usage: TestServer DATA_DIR PORT (password in NEO4J_PASSWORD; NEO4J_TX_MEMORY_BYTES caps
 * one transaction's memory, 512 MiB unless set). Prints one "READY" line
 * when Bolt accepts connections, then runs until its standard input closes, so the
 * server never outlives the test run that started it, however that run ends.
 */
public final class TestServer {
    public static void main(String[] args) throws IOException {
        Path home = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        String password = System.getenv("NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            throw new IllegalArgumentException("NEO4J_PASSWORD must be set (8 characters or more)");
        }
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.transaction_timeout, java.time.Duration.ofMinutes(5))
                // as README's Neo4j settings say: LOAD CSV reads no file of the server's
                // (circuitbase's read-only path refuses LOAD CSV as well)
                .setConfig(GraphDatabaseSettings.allow_file_urls, false)
                .setConfig(GraphDatabaseSettings.load_csv_file_url_root, home.resolve("import"))
                // as a deployment should: one runaway query cannot take the whole heap
                .setConfig(GraphDatabaseSettings.memory_transaction_max_size,
                           Long.parseLong(System.getenv().getOrDefault("NEO4J_TX_MEMORY_BYTES",
                                                                       String.valueOf(512L << 20))))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));
        dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
        System.out.println("READY neo4j " + Version.getNeo4jVersion() + " bolt://127.0.0.1:" + port);
        System.out.flush();
        while (System.in.read() != -1) {
            // wait for the parent to close our standard input
        }
        dbms.shutdown();
    }
}
