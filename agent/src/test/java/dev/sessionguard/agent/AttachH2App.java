package dev.sessionguard.agent;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The target of AgentJarIT's attach test: opens an H2 connection (JdbcConnection loaded before any agent), prints
 * its process id, waits for a line on stdin (the agent is attached meanwhile), then closes the connection and rolls
 * it back, which the agent swallows and H2 alone refuses.
 */
public final class AttachH2App {

    public static void main(String[] args) throws Exception {
        Connection c = DriverManager.getConnection("jdbc:h2:mem:attach");
        String jvm = ManagementFactory.getRuntimeMXBean().getName();
        System.out.println(jvm.substring(0, jvm.indexOf('@')));
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        c.close();
        try {
            c.rollback();
            System.out.println("rollback after close: returned");
        } catch (SQLException e) {
            System.out.println("rollback after close: " + e);
        }
    }
}
