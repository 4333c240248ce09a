package dev.sessionguard.tomcat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import javax.servlet.ServletContextEvent;
import javax.servlet.ServletContextListener;
import javax.servlet.annotation.WebListener;

/**
 * The webapp's own HikariCP pool (WEB-INF/lib), opened when the webapp starts and closed when it stops, as
 * webapps that bundle their pool do. Its classes are loaded by the webapp's class loader, so the agent's events
 * about them are logged through the webapp's own SLF4J (WEB-INF/lib too): the path by which a redeployed
 * webapp's class loader could be kept alive.
 */
@WebListener
public class OwnPool implements ServletContextListener {

    static volatile HikariDataSource pool;

    @Override
    public void contextInitialized(ServletContextEvent e) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(e.getServletContext().getInitParameter("pgUrl"));
        c.setUsername(e.getServletContext().getInitParameter("pgUser"));
        c.setPassword("");
        c.setMaximumPoolSize(2);
        c.setMinimumIdle(0);
        c.setPoolName("webapp-own-pool");
        pool = new HikariDataSource(c);
    }

    @Override
    public void contextDestroyed(ServletContextEvent e) {
        try {
            HibernateOrders.close();
        } catch (Exception | LinkageError ignored) {
            // no Hibernate in this WAR (WildFly's), or its factory already closed
        }
        HikariDataSource p = pool;
        pool = null;
        if (p != null) {
            p.close();
        }
    }
}
