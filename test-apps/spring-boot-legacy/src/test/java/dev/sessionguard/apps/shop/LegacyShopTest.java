package dev.sessionguard.apps.shop;

import dev.sessionguard.testing.AppStorms;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** spring-boot-legacy (Boot 2.7, Spring Data JPA, Hibernate 5.6, HikariCP, PostgreSQL) under every storm. */
class LegacyShopTest {

    static final long SEED = Long.getLong("sg.seed", 20261128L);

    /**
     * storm, the failure that must show without the agent ("-" where none does: the client's cancel does
     * not reach the server thread, and PostgreSQL's driver ignores interrupts on platform threads). When the
     * context closes with requests in flight (poolclose, exit), graceful shutdown gives up after 2 s, Tomcat
     * interrupts the request threads, and Spring commits on the checked InterruptedException before the
     * pool closes: the orders are in the database although their clients got an I/O error (rows found >
     * acknowledged), in both runs; nothing for the agent to change there.
     */
    @ParameterizedTest(name = "spring-boot-legacy {0}")
    @CsvSource({
        "kill, catalogue 3 + the rule under the table: Spring's rollback fails on the terminated connection and its exception overrides the application's",
        "poolclose, -",
        "exit, -",
        "cancel, -",
        "shutdownNow, -",
        "random, catalogue 3: Spring's rollback fails on a terminated connection",
    })
    void storm(String storm, String failureWithout) throws Exception {
        AppStorms.check("spring-boot-legacy", "dev.sessionguard.apps.shop.LegacyShop", "-", storm, failureWithout, SEED);
    }
}
