package dev.sessionguard.apps;

import dev.sessionguard.testing.AppStorms;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** jdbc-worker (plain JDBC, DBCP2 or c3p0, MariaDB) under every storm, without and with the agent. */
class JdbcWorkerTest {

    static final long SEED = Long.getLong("sg.seed", 20261128L);

    /**
     * pool, storm, the catalogue failure that must show without the agent ("-" where none does: MariaDB
     * Connector/J ignores interrupts on platform threads, and DBCP2 leaves checked-out connections alone
     * when it closes).
     */
    @ParameterizedTest(name = "jdbc-worker {0} {1}")
    @CsvSource({
        "dbcp2, kill, catalogue 3: rollback on a killed connection throws from cleanup (MariaDB: Connection is closed)",
        "c3p0, kill, catalogue 3: rollback on a killed connection throws from cleanup (MariaDB: Connection is closed)",
        "dbcp2, poolclose, -",
        "c3p0, poolclose, catalogue 3: rollback after the pool closed under the workers throws from cleanup",
        "dbcp2, exit, -",
        "c3p0, exit, catalogue 3: rollback during shutdown (pool closed by the hook) throws from cleanup",
        "dbcp2, cancel, -",
        "c3p0, cancel, -",
        "dbcp2, shutdownNow, -",
        "c3p0, shutdownNow, -",
        "dbcp2, random, catalogue 3: rollback on a killed connection throws from cleanup",
        "c3p0, random, catalogue 3: rollback on a killed connection throws from cleanup",
    })
    void storm(String pool, String storm, String failureWithout) throws Exception {
        AppStorms.check("jdbc-worker", "dev.sessionguard.apps.JdbcWorker", pool, storm, failureWithout, SEED);
    }
}
