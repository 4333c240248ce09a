package dev.sessionguard.agent;

import java.io.File;
import java.lang.ref.WeakReference;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.Driver;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * A webapp's threads hold an inheritable thread-local with the webapp's class loader (as a logging MDC does): one of
 * them interrupts a request thread inside a guarded call (the interrupt is held back), and, with {@code first-load},
 * another makes the webapp's first JDBC call, which loads the first class the agent weaves. Without it the first call
 * runs in main with the agent in observe mode, switched to protect after it (JMX's setMode; here the helper's own
 * Guard.setMode, which the MBean calls). The webapp is then dropped: prints whether its class loader was collected.
 * Args: the folder of the jars (H2, SLF4J), and {@code first-load} or nothing.
 */
public final class ModeSwitchLeakApp {

    private static final InheritableThreadLocal<Object> MDC = new InheritableThreadLocal<>();

    public static void main(String[] args) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (File f : new File(args[0]).listFiles()) {
            if (f.getName().endsWith(".jar")) {
                urls.add(f.toURI().toURL());
            }
        }
        WeakReference<ClassLoader> ref = deployAndUndeploy(urls.toArray(new URL[0]), args.length > 1 && args[1].equals("first-load"));
        System.out.println("collected=" + LeakApp.collected(ref));
    }

    /**
     * {@code firstLoad}: the webapp's first JDBC call, which loads the first library class the agent weaves, runs in a
     * thread whose inheritable thread-locals hold the webapp's class loader (the agent then starts its own threads);
     * else it runs in main, in observe mode, and the mode is switched to protect after it.
     */
    private static WeakReference<ClassLoader> deployAndUndeploy(URL[] urls, boolean firstLoad) throws Exception {
        final URLClassLoader webapp = new URLClassLoader(urls, ClassLoader.getSystemClassLoader().getParent());
        final Class<?>[] driverClass = new Class<?>[1];
        Runnable firstCall = () -> {
            try {
                driverClass[0] = Class.forName("org.h2.Driver", true, webapp);
                Driver driver = (Driver) driverClass[0].getMethod("load").invoke(null);
                Connection h2 = driver.connect("jdbc:h2:mem:switch;DB_CLOSE_ON_EXIT=FALSE", new Properties());
                h2.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        if (firstLoad) {
            Thread request = new Thread(() -> {
                MDC.set(webapp);
                Thread.currentThread().setContextClassLoader(webapp); // as a servlet container sets it
                try {
                    firstCall.run();
                } finally {
                    MDC.remove();
                }
            }, "request-0");
            request.start();
            request.join();
        } else {
            firstCall.run();
        }
        // a library class was woven: the agent arms the interrupt shield on its own thread; wait for that
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("sessionguard-init")) {
                t.join();
            }
        }
        if (!firstLoad) {
            Class<?> guard = Class.forName("dev.sessionguard.bootstrap.Guard");
            guard.getMethod("setMode", int.class).invoke(null, guard.getField("MODE_PROTECT").getInt(null));
        }

        // a request thread inside commit() is interrupted by another thread of the webapp (a Future.cancel(true), a
        // stuck-thread valve), whose inheritable thread-locals hold the webapp's class loader
        final CountDownLatch inside = new CountDownLatch(1);
        final CountDownLatch interrupted = new CountDownLatch(1);
        final Connection connection = (Connection) Proxy.newProxyInstance(ModeSwitchLeakApp.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (proxy, method, a) -> {
                    if (method.getName().equals("commit")) {
                        inside.countDown();
                        interrupted.await(); // the interrupt is held back: this wait is not cut short
                    }
                    return null;
                });
        final boolean[] setAgain = new boolean[1];
        Thread request = new Thread(() -> {
            try {
                connection.commit();
                setAgain[0] = Thread.interrupted(); // the held-back interrupt, set again when commit() returned
            } catch (Exception e) {
                e.printStackTrace();
            }
        }, "request-1");
        Thread canceller = new Thread(() -> {
            MDC.set(webapp);
            try {
                inside.await();
                request.interrupt();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                MDC.remove();
                interrupted.countDown();
            }
        }, "canceller");
        request.start();
        canceller.start();
        request.join();
        canceller.join();
        System.out.println("interrupt set again after commit: " + setAgain[0]);
        driverClass[0].getMethod("unload").invoke(null);
        webapp.close();
        return new WeakReference<ClassLoader>(webapp);
    }
}
