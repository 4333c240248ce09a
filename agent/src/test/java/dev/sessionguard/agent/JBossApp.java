package dev.sessionguard.agent;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Runs as a JBoss Modules module (AgentJarIT.jbossModules), with H2 in the same module: a rollback after
 * close, which the agent swallows when it guards H2 there. With the argument {@code wait}: prints its pid and
 * waits for a line on stdin first (an attach).
 */
public final class JBossApp {

    private JBossApp() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("wait")) {
            System.out.println(ProcessHandle.current().pid());
            System.out.flush();
            System.in.read();
        }
        Driver driver = (Driver) Class.forName("org.h2.Driver").getMethod("load").invoke(null);
        Connection c = driver.connect("jdbc:h2:mem:jboss;DB_CLOSE_ON_EXIT=FALSE", new Properties());
        c.setAutoCommit(false);
        c.close();
        try {
            c.rollback();
            System.out.println("rollback after close: returned");
        } catch (SQLException e) {
            System.out.println("rollback after close: " + e);
        }
        System.out.println("loaded by: " + JBossApp.class.getClassLoader());
    }
}
