package dev.sessionguard.agent;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The program of AgentJarIT's AOT cache test: an H2 connection (a woven class, and the interrupt shield armed
 * for it) that commits, closes, and is rolled back after close, which the agent swallows and H2 alone refuses.
 */
public final class AotApp {

    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:h2:mem:aot")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("create table t(id int primary key)");
                s.execute("insert into t values (1)");
            }
            c.commit();
            c.close();
            try {
                c.rollback();
                System.out.println("rollback after close: returned");
            } catch (SQLException e) {
                System.out.println("rollback after close: " + e);
            }
        }
    }
}
