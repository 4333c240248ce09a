package dev.sessionguard.unsupported;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.cfg.Configuration;

/**
 * A legacy service on Hibernate 5.1: commits an order, then its finally block rolls back and closes again
 * (the cleanup bug). Prints what it saw as key=value lines for the test to compare with and without the agent.
 */
public final class OldHibernateService {

    private static final Logger HIBERNATE_LOG = Logger.getLogger("org.hibernate");

    private OldHibernateService() {
    }

    public static void main(String[] args) {
        HIBERNATE_LOG.setLevel(Level.SEVERE);
        Configuration cfg = new Configuration()
                .setProperty("hibernate.connection.url", "jdbc:h2:mem:old;DB_CLOSE_DELAY=-1")
                .setProperty("hibernate.connection.username", "sa")
                .setProperty("hibernate.connection.password", "")
                .setProperty("hibernate.dialect", "org.hibernate.dialect.H2Dialect");
        SessionFactory sf = cfg.buildSessionFactory();
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        s.createSQLQuery("create table orders (id int primary key)").executeUpdate();
        s.createSQLQuery("insert into orders values (1)").executeUpdate();
        tx.commit();
        System.out.println("RESULT commit=ok");
        s.close();
        System.out.println("RESULT cleanupRollback=" + attempt(tx::rollback));
        System.out.println("RESULT cleanupClose=" + attempt(s::close));
        Session check = sf.openSession();
        System.out.println("RESULT rows=" + check.createSQLQuery("select count(*) from orders").uniqueResult());
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
