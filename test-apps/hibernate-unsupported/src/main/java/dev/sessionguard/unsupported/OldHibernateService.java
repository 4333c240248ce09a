package dev.sessionguard.unsupported;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.cfg.Configuration;

/**
 * A legacy service on Hibernate 5.1 (and 4.3 and 5.2, the test swaps their jars in; Session.close() returns the
 * connection on 4.3, so it is called by name): commits an order, then its finally block rolls back and closes again
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
        close(s);
        System.out.println("RESULT cleanupRollback=" + attempt(tx::rollback));
        System.out.println("RESULT cleanupClose=" + attempt(() -> close(s)));
        Session check = sf.openSession();
        check.doWork(c -> {
            try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery("select count(*) from orders")) {
                rs.next();
                System.out.println("RESULT rows=" + rs.getLong(1));
            }
        });
        close(check);
        sf.close();
    }

    /** Session.close(), whichever its return type (void from 5.0 on, the Connection on 4.x). */
    private static void close(Session s) {
        try {
            s.getClass().getMethod("close").invoke(s);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable t = e.getCause();
            throw t instanceof RuntimeException ? (RuntimeException) t : new IllegalStateException(t);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
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
