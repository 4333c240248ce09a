package dev.sessionguard.testing;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.MariaDBContainer;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * Where the database servers of the tests come from: Testcontainers containers when a Docker engine
 * answers, else the local servers, which .ci/run starts: PostgreSQL 127.0.0.1:5432 (user postgres,
 * database test, trust auth) and MariaDB 127.0.0.1:3306 (user root, empty password, database test).
 */
public final class Databases {

    private static PostgreSQLContainer<?> container;
    private static MariaDBContainer<?> mariadb;
    private static boolean decided;

    private Databases() {
    }

    private static synchronized PostgreSQLContainer<?> container() {
        if (!decided) {
            decided = true;
            boolean docker;
            try {
                docker = !"false".equals(System.getProperty("sg.docker")) && DockerClientFactory.instance().isDockerAvailable();
            } catch (Throwable t) {
                docker = false;
            }
            if (docker) {
                container = new PostgreSQLContainer<>("postgres:15");
                container.start();
                mariadb = new MariaDBContainer<>("mariadb:10.11");
                mariadb.start();
            }
        }
        return container;
    }

    public static String postgresUrl() {
        PostgreSQLContainer<?> c = container();
        return c != null ? c.getJdbcUrl() : System.getProperty("sg.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
    }

    public static String postgresUser() {
        PostgreSQLContainer<?> c = container();
        return c != null ? c.getUsername() : "postgres";
    }

    public static String postgresPassword() {
        PostgreSQLContainer<?> c = container();
        return c != null ? c.getPassword() : "";
    }

    public static String mariadbUrl() {
        container();
        return mariadb != null ? mariadb.getJdbcUrl() : System.getProperty("sg.mariadb.url", "jdbc:mariadb://127.0.0.1:3306/test");
    }

    public static String mariadbUser() {
        container();
        return mariadb != null ? mariadb.getUsername() : "root";
    }
}
