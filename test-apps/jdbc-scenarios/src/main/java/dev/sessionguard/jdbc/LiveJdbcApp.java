package dev.sessionguard.jdbc;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.MBeanServerDelegate;
import javax.management.MBeanServerNotification;
import javax.management.ObjectName;

/**
 * A long-running JDBC service for the agent's run-time control (attach, status, mode, detach): it answers
 * commands on stdin, one line each, on stdout.
 * <ul>
 * <li>{@code probe}: the legacy cleanup bug on embedded H2: rollback() on a connection already closed.
 *     Prints {@code probe none} when nothing was thrown, else {@code probe <exception>}.</li>
 * <li>{@code await-mbean}: waits (bounded) until the agent's MBean is registered: {@code mbean true|false}.</li>
 * <li>{@code exit}.</li>
 * </ul>
 * With {@code -Dlive.platformServer=false} it does not create the platform MBean server (as a Spring Boot
 * service does not), and {@code await-mbean} is not available.
 */
public final class LiveJdbcApp {

    private LiveJdbcApp() {
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:h2:mem:live;DB_CLOSE_DELAY=-1";
        ObjectName guard = new ObjectName("dev.sessionguard:type=Guard");
        CountDownLatch registered = new CountDownLatch(1);
        if (!"false".equals(System.getProperty("live.platformServer"))) {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            server.addNotificationListener(MBeanServerDelegate.DELEGATE_NAME, (n, handback) -> {
                if (n instanceof MBeanServerNotification && MBeanServerNotification.REGISTRATION_NOTIFICATION.equals(n.getType())
                        && guard.equals(((MBeanServerNotification) n).getMBeanName())) {
                    registered.countDown();
                }
            }, null, null);
            if (server.isRegistered(guard)) {
                registered.countDown();
            }
        }
        System.out.println("pid " + ProcessHandle.current().pid());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            switch (line.trim()) {
                case "probe":
                    System.out.println("probe " + probe(url));
                    break;
                case "await-mbean":
                    System.out.println("mbean " + registered.await(30, TimeUnit.SECONDS));
                    break;
                case "exit":
                    return;
                default:
                    System.out.println("unknown " + line);
            }
            System.out.flush();
        }
    }

    private static String probe(String url) {
        try {
            Connection c = DriverManager.getConnection(url, "sa", "");
            c.setAutoCommit(false);
            c.close();
            try {
                c.rollback(); // the finally block of the legacy code: the connection is already gone
                return "none";
            } catch (SQLException e) {
                String m = String.valueOf(e.getMessage());
                return e.getClass().getName() + ": " + (m.contains("\n") ? m.substring(0, m.indexOf('\n')) : m);
            }
        } catch (Exception e) {
            return "setup failed: " + e;
        }
    }
}
