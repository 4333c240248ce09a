package dev.sessionguard.tomcat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code /do/stuck?port=P} (Tomcat only): a slow request of a legacy webapp that keeps its orders in an embedded
 * H2 1.4.200 file database (WEB-INF/lib), as small services of the 2010s did. It opens its transaction, writes
 * the order, then waits for a remote service (a plain socket to {@code 127.0.0.1:P}, which the test answers
 * when it chooses), then commits. The context's {@code StuckThreadDetectionValve} (META-INF/context.xml,
 * {@code interruptThreadThreshold}) interrupts the request thread while it waits: a platform thread blocked in
 * a socket read does not notice, and the flag is still set when the commit runs (the request waits for the
 * interrupt after the answer: see {@link #awaitInterrupt()}).
 *
 * <p>Answers {@code stuck.interruptedAtCommit}, {@code stuck.commit} (ok or what commit threw),
 * {@code stuck.cleanup}, {@code stuck.interruptKept} (the flag after the DAO's cleanup: an interrupt must not be
 * lost), {@code stuck.otherConnection} (what a connection opened before, on another thread, sees of the order
 * afterwards: the row count, or the exception when the database was closed under it), and
 * {@code stuck.acknowledged} (true when the DAO told its caller the order was stored).
 */
final class StuckOrders {

    private StuckOrders() {
    }

    static void serve(String url, int port, StringBuilder out) throws Exception {
        // the webapp's driver, registered with DriverManager by its own class loader (Tomcat's DriverManager
        // scan has run before this webapp existed)
        Class.forName("org.h2.Driver", true, StuckOrders.class.getClassLoader());
        long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        String commit = "ok";
        String cleanup = "none";
        boolean atCommit;
        Connection other = DriverManager.getConnection(url, "sa", "");
        try {
            try (Statement s = other.createStatement()) {
                s.execute("create table if not exists orders (id bigint primary key, item varchar(100))");
            }
            Connection c = DriverManager.getConnection(url, "sa", "");
            try {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("insert into orders (id, item) values (" + id + ", 'order')");
                }
                remoteCall(port, "stuck");
                awaitInterrupt();
                atCommit = Thread.currentThread().isInterrupted();
                try {
                    c.commit();
                } catch (SQLException e) {
                    commit = e.getClass().getName() + ": " + e.getMessage();
                    try {
                        c.rollback();
                    } catch (SQLException r) {
                        cleanup = "rollback: " + r.getMessage();
                    }
                }
            } finally {
                try {
                    c.close();
                } catch (SQLException r) {
                    cleanup = "close: " + r.getMessage();
                }
            }
            boolean kept = Thread.interrupted(); // read and cleared: the rest of this request runs without it
            out.append("stuck.interruptedAtCommit=").append(atCommit).append('\n');
            out.append("stuck.commit=").append(commit.replace('\n', ' ')).append('\n');
            out.append("stuck.cleanup=").append(cleanup.replace('\n', ' ')).append('\n');
            out.append("stuck.interruptKept=").append(kept).append('\n');
            out.append("stuck.acknowledged=").append("ok".equals(commit)).append('\n');
            out.append("stuck.otherConnection=").append(onAnotherThread(other, id).replace('\n', ' ')).append('\n');
        } finally {
            try {
                other.close();
            } catch (SQLException ignored) {
                // the database may have been closed under it: what it saw is answered above
            }
        }
    }

    /**
     * Tomcat's valve logs "has been interrupted because it was active" and then interrupts the thread; the test
     * answers the remote call on that line, so the answer can overtake the interrupt. The request waits here for
     * the interrupt itself: {@code park} returns at once when the flag is set and leaves it set. If it never
     * comes, the request commits without it and answers {@code interruptedAtCommit=false}, which the test rejects.
     */
    private static void awaitInterrupt() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long left;
        while (!Thread.currentThread().isInterrupted() && (left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    /** What another request's connection sees of the order, from a thread nobody interrupted. */
    private static String onAnotherThread(Connection other, long id) throws InterruptedException {
        AtomicReference<String> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (Statement s = other.createStatement(); ResultSet rs = s.executeQuery("select count(*) from orders where id = " + id)) {
                rs.next();
                seen.set(String.valueOf(rs.getLong(1)));
            } catch (SQLException e) {
                seen.set(e.getClass().getName() + ": " + e.getMessage());
            }
        }, "another-request");
        t.start();
        t.join();
        return seen.get();
    }

    /**
     * A remote service that answers when the test says so: a blocking read, which an interrupt does not end. An
     * answer of {@code x}, or none, is the service's failure.
     */
    static void remoteCall(int port, String who) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(120_000);
            s.getOutputStream().write((who + "\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            int answer = in.read();
            if (answer < 0 || answer == 'x') {
                throw new IOException("the remote service failed");
            }
        }
    }
}
