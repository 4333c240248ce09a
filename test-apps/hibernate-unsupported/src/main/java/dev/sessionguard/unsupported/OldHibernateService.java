package dev.sessionguard.unsupported;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.cfg.Configuration;

/**
 * A legacy service on Hibernate 5.1 (and 5.2, the test swaps its jar in): commits an order, then its finally block rolls back and closes again
 * (the cleanup bug). Prints what it saw as key=value lines for the test to compare with and without the agent.
 */
public final class OldHibernateService {

    private static final Logger HIBERNATE_LOG = Logger.getLogger("org.hibernate");

    private OldHibernateService() {
    }

    public static void main(String[] args) {
        try {
            run();
        } catch (Throwable t) {
            System.out.println("RESULT crash=" + t);
            System.exit(1); // Hibernate's threads must not keep a failed run alive
        }
    }

    private static void run() {
        HIBERNATE_LOG.setLevel(Level.SEVERE);
        Configuration cfg = new Configuration()
                .setProperty("hibernate.connection.url", "jdbc:h2:mem:old;DB_CLOSE_DELAY=-1")
                .setProperty("hibernate.connection.username", "sa")
                .setProperty("hibernate.connection.password", "")
                .setProperty("hibernate.dialect", "org.hibernate.dialect.H2Dialect");
        SessionFactory sf = cfg.buildSessionFactory();
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        // plain JDBC through the session (Session.doWork): the same on 5.1 and 5.2, whose query API changed
        s.doWork(c -> {
            try (java.sql.Statement st = c.createStatement()) {
                st.execute("create table orders (id int primary key)");
                st.execute("insert into orders values (1)");
            }
        });
        tx.commit();
        System.out.println("RESULT commit=ok");
        s.close();
        System.out.println("RESULT cleanupRollback=" + attempt(tx::rollback));
        System.out.println("RESULT cleanupClose=" + attempt(s::close));
        Session check = sf.openSession();
        check.doWork(c -> {
            try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery("select count(*) from orders")) {
                rs.next();
                System.out.println("RESULT rows=" + rs.getLong(1));
            }
        });
        check.close();
        sf.close();
    }

    private static String attempt(Runnable r) {
        try {
            r.run();
            return "none";
        } catch (RuntimeException e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }
}
