package dev.sessionguard.apps.shop;

import dev.sessionguard.apps.kit.Storms;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A legacy Spring Boot 2.7 shop: {@link OrderController} on Tomcat calls the {@code @Transactional}
 * {@link OrderService} (Spring Data JPA, Hibernate 5.6, HikariCP, PostgreSQL); graceful shutdown with a
 * 2 s phase timeout. Clients in the same JVM place orders over HTTP; an order is acknowledged when the
 * shop answered 200. The workload and the storms are {@link Storms}'; "poolclose" closes the application
 * context at runtime, "exit" is System.exit with Spring's own shutdown hook closing the context while
 * requests are in flight: {@code LegacyShop <dir> <storm> [seed]}.
 */
@SpringBootApplication
public class LegacyShop implements Storms.Service {

    static final String URL = System.getProperty("sg.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
    static final String USER = System.getProperty("sg.pg.user", "postgres");
    static final String PASSWORD = System.getProperty("sg.pg.password", "");
    static final int WORKERS = 6;

    /** Orders that are to stop inside their transaction, by id: handed from the client to the server thread. */
    static final Map<Long, Storms.Hold> HOLDS = new ConcurrentHashMap<>();
    static volatile Storms storms;
    static String table;

    private ConfigurableApplicationContext context;
    private HttpClient http;
    private int port;

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (Throwable t) {
            // the web server's threads would keep a JVM whose main failed alive: end it with the failure
            t.printStackTrace();
            System.exit(1);
        }
    }

    static void run(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: LegacyShop <dir> <" + String.join("|", Storms.STORMS) + "|startup> [seed]");
            System.exit(2);
        }
        table = "sb_orders_" + ProcessHandle.current().pid();
        try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD); Statement s = c.createStatement()) {
            s.execute("create table " + table + " (id bigint primary key, item varchar(100) not null)");
        }
        LegacyShop shop = new LegacyShop();
        SpringApplication app = new SpringApplication(LegacyShop.class);
        app.setDefaultProperties(Map.of(
                "server.port", "0",
                "server.shutdown", "graceful",
                "spring.lifecycle.timeout-per-shutdown-phase", "2s",
                "spring.datasource.url", URL,
                "spring.datasource.username", USER,
                "spring.datasource.password", PASSWORD,
                "spring.datasource.hikari.maximum-pool-size", String.valueOf(WORKERS),
                "spring.jpa.open-in-view", "false",
                "spring.main.banner-mode", "off",
                "logging.level.root", "WARN"));
        shop.context = app.run();
        // the port Boot published (local.server.port): the same property from Boot 2.7 to 4, whose
        // WebServerApplicationContext moved package (../spring-boot-4 builds these sources too)
        shop.port = Integer.parseInt(shop.context.getEnvironment().getProperty("local.server.port"));
        shop.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String attach = System.getProperty("sg.attach");
        if (attach != null) {
            attach(attach);
        }
        if (args[1].equals("startup")) {
            // scripts/startup.sh: start, one order through HTTP, JPA and the pool, stop
            shop.placeOrder(1, null);
            shop.context.close();
            try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD); Statement s = c.createStatement()) {
                s.execute("drop table " + table);
            }
            System.exit(0);
        }
        storms = new Storms(shop, new File(args[0]), args[1], args.length > 2 ? Long.parseLong(args[2]) : 20261128L,
                WORKERS, 60, 20);
        storms.run();
    }

    /**
     * -Dsg.attach=JAR: the started shop has SessionGuard attached by its CLI, as an operator attaches it to a
     * running service ({@code java -jar JAR attach PID}), before the storm; the report goes beside sg.dir.
     */
    static void attach(String jar) throws Exception {
        String java = new File(System.getProperty("java.home"), "bin/java").getPath();
        File report = new File(new File(System.getProperty("sg.dir", ".")).getAbsoluteFile().getParentFile(), "report.json");
        Process p = new ProcessBuilder(java, "-jar", jar, "attach", String.valueOf(ProcessHandle.current().pid()),
                "report=" + report).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("java -jar " + jar + " attach failed: exit " + p.exitValue());
        }
    }

    // ------------------------------------------------------------------ the client side of the workload

    /** One order over HTTP; acknowledged when the shop answers 200. */
    @Override
    public void placeOrder(long id, Storms.Hold hold) throws Exception {
        if (hold != null) {
            HOLDS.put(id, hold);
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders/" + id))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
        }
    }

    // ------------------------------------------------------------------ what the storms need

    /** The application context closes: graceful shutdown, then the EntityManagerFactory and the pool. */
    @Override
    public void closeResources(Collection<Long> held) {
        context.close();
    }

    @Override
    public String checkedOut() {
        try {
            com.zaxxer.hikari.HikariDataSource ds = context.getBean(com.zaxxer.hikari.HikariDataSource.class);
            return ds.isClosed() ? "0 (pool closed)" : String.valueOf(ds.getHikariPoolMXBean().getActiveConnections());
        } catch (RuntimeException e) {
            return "0 (context closed)";
        }
    }

    @Override
    public Connection direct() throws SQLException {
        return DriverManager.getConnection(URL, USER, PASSWORD);
    }

    @Override
    public String killSql(long backend) {
        return "select pg_terminate_backend(" + backend + ")";
    }

    @Override
    public String backendIdSql() {
        return "select pg_backend_pid()";
    }

    @Override
    public String table() {
        return table;
    }
}
