package dev.sessionguard.apps.shop;

import dev.sessionguard.testing.OtherAgents;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The shop (Boot 2.7, Hibernate 5.6, HikariCP, PostgreSQL) beside the agents production services already run,
 * each the jar its users download from Maven Central: the OpenTelemetry Java agent, Datadog's dd-java-agent,
 * Elastic's APM agent. Under the "kill" storm, each of them alone, then SessionGuard before it and after it on
 * the command line, and attached to the running shop ({@link OtherAgents#killStormBeside}): SessionGuard's
 * promises hold, it wove the driver, the pool's proxies and Hibernate, the other agent's JDBC spans are still
 * written, no class is broken. Rows go to target/other-agents.md.
 */
class OtherAgentsTest {

    static final long SEED = Long.getLong("sg.seed", 20261128L);
    static final Path AGENTS = Paths.get("target", "other-agents").toAbsolutePath();

    static final String[] WOVEN = {
        "org.postgresql.jdbc.PgConnection#commit", "org.postgresql.jdbc.PgConnection#rollback",
        "com.zaxxer.hikari.pool.HikariProxyConnection#rollback", "com.zaxxer.hikari.pool.ProxyConnection#close",
        "org.hibernate.internal.SessionImpl#close", "org.hibernate.engine.transaction.internal.TransactionImpl#commit",
        "org.hibernate.engine.transaction.internal.TransactionImpl#rollback"};

    @ParameterizedTest(name = "beside {0} ({1})")
    @CsvSource({
        "otel, otel.version",
        "datadog, datadog.version",
        "elastic, elastic.version",
    })
    void storm(String agent, String versionProperty) throws Exception {
        String version = agent + " " + System.getProperty("sg." + versionProperty, "?");
        OtherAgents.killStormBeside("spring-boot-legacy", "dev.sessionguard.apps.shop.LegacyShop", AGENTS, agent, version, WOVEN, SEED);
    }
}
