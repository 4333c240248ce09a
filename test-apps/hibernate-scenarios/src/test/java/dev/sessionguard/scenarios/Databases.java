package dev.sessionguard.scenarios;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * Where the PostgreSQL of the tests comes from: a Testcontainers container when a Docker engine answers,
 * else the local server (127.0.0.1:5432, user postgres, database test, trust auth), which .ci/run starts.
 */
final class Databases {

    private static PostgreSQLContainer<?> container;
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
            }
        }
        return container;
    }

    static String postgresUrl() {
        PostgreSQLContainer<?> c = container();
        return c != null ? c.getJdbcUrl() : System.getProperty("sg.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
    }

    static String postgresUser() {
        PostgreSQLContainer<?> c = container();
        return c != null ? c.getUsername() : "postgres";
    }

    static String postgresPassword() {
        PostgreSQLContainer<?> c = container();
        return c != null ? c.getPassword() : "";
    }
}
