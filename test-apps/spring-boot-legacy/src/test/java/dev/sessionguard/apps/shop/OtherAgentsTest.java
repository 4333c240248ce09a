package dev.sessionguard.apps.shop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.AppStorms;
import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The shop (Boot 2.7, Hibernate 5.6, HikariCP, PostgreSQL) beside the agents production services already run,
 * each the jar its users download from Maven Central: the OpenTelemetry Java agent, Datadog's dd-java-agent,
 * Elastic's APM agent. Under the "kill" storm (the one whose failure shows without SessionGuard), each of them
 * alone, then SessionGuard before it and after it on the command line, and attached to the running shop. With
 * SessionGuard: its promises hold, it wove the driver, the pool's proxies and Hibernate (none left
 * uninstrumented, which today's weaver did when OpenTelemetry came first: docs/weaving.md, "Beside other
 * agents"), the other agent's JDBC instrumentation still produces its spans, and no class is broken.
 * Rows go to target/other-agents.md.
 */
class OtherAgentsTest {

    static final long SEED = Long.getLong("sg.seed", 20261128L);
    static final Path AGENTS = Paths.get("target", "other-agents").toAbsolutePath();
    static final String MAIN = "dev.sessionguard.apps.shop.LegacyShop";

    /** The other agent's options: no backend to send to, its spans written to the log instead. */
    static List<String> options(String agent) {
        return dev.sessionguard.testing.OtherAgents.options(AGENTS, agent, "shop", null);
    }

    /** How many JDBC spans the other agent wrote to its log. */
    static int jdbcSpans(String agent, Outcome o) {
        return dev.sessionguard.testing.OtherAgents.jdbcSpans(agent, o.stdout + o.stderr);
    }

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
        List<String> other = options(agent);
        List<String> none = Collections.emptyList();
        Outcome alone = AppStorms.run("spring-boot-legacy", MAIN, "-", "kill", false, SEED, "-" + agent, other, none);
        assertTrue(AppStorms.failed(alone), () -> "without SessionGuard the kill storm's failure shows beside " + agent + ": " + alone.result);
        assertTrue(jdbcSpans(agent, alone) > 0, () -> agent + " alone writes JDBC spans: " + Fork.tail(alone.stderr));
        List<String> attach = new ArrayList<>(other);
        attach.add("-Dsg.attach=" + Fork.AGENT_JAR);
        Outcome[] with = {
            AppStorms.run("spring-boot-legacy", MAIN, "-", "kill", true, SEED, "-" + agent + "-last", other, none),
            AppStorms.run("spring-boot-legacy", MAIN, "-", "kill", true, SEED, "-" + agent + "-first", none, other),
            AppStorms.run("spring-boot-legacy", MAIN, "-", "kill", false, SEED, "-" + agent + "-attached", attach, none),
        };
        String[] orders = {agent + " first", "SessionGuard first", "attached after " + agent};
        String version = agent + " " + System.getProperty("sg." + versionProperty, "?");
        Matrix.row("other-agents.md", "other agent | SessionGuard | outcome | other agent's JDBC spans | SessionGuard events",
                version, "none", AppStorms.summary(alone), String.valueOf(jdbcSpans(agent, alone)), "-");
        for (int i = 0; i < with.length; i++) {
            Outcome o = with[i];
            String order = orders[i];
            AppStorms.assertProtected(o);
            assertEquals(Collections.emptyList(), o.brokenOrUninstrumented(), order + ": no broken class, nothing left uninstrumented");
            assertTrue(jdbcSpans(agent, o) > 0, () -> order + ": " + agent + "'s JDBC spans are still written");
            assertTrue(o.event("rollback.swallowed") > 0, () -> order + ": SessionGuard guarded the killed connections' rollbacks: " + o.events);
            for (String woven : WOVEN) {
                assertTrue(o.report.contains("\"" + woven + "\""), () -> order + ": " + woven + " is woven; report: " + o.report);
            }
            Matrix.row("other-agents.md", "other agent | SessionGuard | outcome | other agent's JDBC spans | SessionGuard events",
                    version, order, AppStorms.summary(o), String.valueOf(jdbcSpans(agent, o)), AppStorms.events(o));
        }
    }
}
