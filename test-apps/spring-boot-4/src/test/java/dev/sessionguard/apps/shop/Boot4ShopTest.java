package dev.sessionguard.apps.shop;

import dev.sessionguard.testing.AppStorms;
import dev.sessionguard.testing.OtherAgents;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The shop on Spring Boot 4 (Hibernate 7.2, HikariCP 7, PostgreSQL): under the kill storm without and with the
 * agent, then beside the OpenTelemetry Java agent. This is the stack of issue #11's report, where SessionGuard
 * left H2's JdbcConnection, SessionImpl and TransactionImpl uninstrumented whenever OpenTelemetry came first
 * ("Cannot resolve type description for io.opentelemetry.javaagent.bootstrap.field.VirtualFieldAccessor$..."):
 * Hibernate 7.2 is not among the versions shipped woven, so Byte Buddy weaves it at run time against the
 * interfaces OpenTelemetry added (docs/weaving.md, "Beside other agents").
 */
class Boot4ShopTest {

    static final long SEED = Long.getLong("sg.seed", 20261128L);
    static final String APP = "spring-boot-4";
    static final String MAIN = "dev.sessionguard.apps.shop.LegacyShop";

    static final String[] WOVEN = {
        "org.postgresql.jdbc.PgConnection#commit", "org.postgresql.jdbc.PgConnection#rollback",
        "com.zaxxer.hikari.pool.HikariProxyConnection#rollback", "com.zaxxer.hikari.pool.ProxyConnection#close",
        "org.hibernate.internal.SessionImpl#close", "org.hibernate.engine.transaction.internal.TransactionImpl#commit",
        "org.hibernate.engine.transaction.internal.TransactionImpl#rollback"};

    /** Spring's rollback fails on the terminated connection and its exception overrides the commit's (catalogue 3). */
    @Test
    void killStorm() throws Exception {
        AppStorms.check(APP, MAIN, "-", "kill", "catalogue 3: Spring's rollback fails on the terminated connection", SEED);
    }

    @ParameterizedTest(name = "beside OpenTelemetry {1}")
    @CsvSource({
        "other-agents-reported, otel-reported.version",
        "other-agents, otel.version",
    })
    void besideOpenTelemetry(String dir, String versionProperty) throws Exception {
        String version = "otel " + System.getProperty("sg." + versionProperty, "?");
        OtherAgents.killStormBeside(APP, MAIN, Paths.get("target", dir).toAbsolutePath(), "otel", version, WOVEN, SEED);
    }
}
