package dev.sessionguard.agent;

import java.io.File;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A webapp in miniature: a class loader of its own with H2 and SLF4J (with a binding, so the agent logs
 * through it), an event the agent logs there, then the loader dropped. Prints whether it was collected.
 * Args: the folder of the jars.
 */
public final class LeakApp {

    public static void main(String[] args) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (File f : new File(args[0]).listFiles()) {
            if (f.getName().endsWith(".jar")) {
                urls.add(f.toURI().toURL());
            }
        }
        WeakReference<ClassLoader> ref = deployAndUndeploy(urls.toArray(new URL[0]));
        System.out.println("collected=" + collected(ref));
    }

    /** Whether {@code ref} is cleared within a bounded number of full collections (collection is not deterministic in time; this is, no sleep). */
    static boolean collected(WeakReference<?> ref) {
        for (int i = 0; i < 40 && ref.get() != null; i++) {
            System.gc();
            byte[][] pressure = new byte[16][];
            for (int j = 0; j < pressure.length; j++) {
                pressure[j] = new byte[1 << 20];
            }
        }
        return ref.get() == null;
    }

    private static WeakReference<ClassLoader> deployAndUndeploy(URL[] urls) throws Exception {
        URLClassLoader webapp = new URLClassLoader(urls, ClassLoader.getSystemClassLoader().getParent());
        Class<?> driverClass = Class.forName("org.h2.Driver", true, webapp);
        Driver driver = (Driver) driverClass.getMethod("load").invoke(null);
        Connection c = driver.connect("jdbc:h2:mem:leak;DB_CLOSE_ON_EXIT=FALSE", new Properties());
        c.setAutoCommit(false);
        c.close();
        try {
            c.rollback();
            System.out.println("rollback after close: returned");
        } catch (SQLException e) {
            System.out.println("rollback after close: " + e);
        }
        driverClass.getMethod("unload").invoke(null);
        Thread.currentThread().setContextClassLoader(null);
        webapp.close();
        return new WeakReference<ClassLoader>(webapp);
    }
}
