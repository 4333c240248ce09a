package dev.sessionguard.apps;

import dev.sessionguard.testing.AppStorms;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** hikari-postgres (Hibernate 6.6, HikariCP, PostgreSQL) under every storm, without and with the agent. */
class HikariPostgresTest {

    static final long SEED = Long.getLong("sg.seed", 20261128L);

    /**
     * storm, the catalogue failure that must show without the agent ("-" where none does: PostgreSQL's
     * driver ignores interrupts on platform threads).
     */
    @ParameterizedTest(name = "hikari-postgres {0}")
    @CsvSource({
        "kill, catalogue 3: rollback after pg_terminate_backend throws from cleanup (This connection has been closed)",
        "poolclose, catalogue 3: HikariCP closed under the workers; the rollback in cleanup throws (Connection is closed)",
        "exit, catalogue 2/3: the shutdown hook closes factory and pool; the workers' cleanup throws during shutdown",
        "cancel, -",
        "shutdownNow, -",
        "random, catalogue 3: rollback after pg_terminate_backend throws from cleanup",
    })
    void storm(String storm, String failureWithout) throws Exception {
        AppStorms.check("hikari-postgres", "dev.sessionguard.apps.HikariPostgres", "-", storm, failureWithout, SEED);
    }
}
