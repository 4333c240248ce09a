package dev.sessionguard.agent;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.sql.Connection;

/**
 * A JDBC driver's connection class the agent cannot weave: its {@code commit()} is so long (65,500 bytes of
 * code, as generated code can be) that any advice around it passes the JVM's limit of 65,535
 * bytes per method. The agent must name it at WARN once, leave it as it is, and the application must run on.
 * Args: the class file to read (AgentJarIT writes it). Defines the class in a loader of its own (as a
 * driver's jar is), then calls commit() three times, rollback() and close(), and prints what they returned.
 */
public final class HugeConnectionApp {

    static final String NAME = "com.example.legacy.HugeConnection";

    public static void main(String[] args) throws Exception {
        byte[] bytes = Files.readAllBytes(Paths.get(args[0]));
        ClassLoader driver = new ClassLoader(HugeConnectionApp.class.getClassLoader()) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                if (!name.equals(NAME)) {
                    throw new ClassNotFoundException(name);
                }
                return defineClass(name, bytes, 0, bytes.length);
            }
        };
        Connection c = (Connection) Class.forName(NAME, true, driver).getConstructor().newInstance();
        int counted = 0;
        for (int i = 0; i < 3; i++) {
            c.commit();
            counted = (Integer) c.getClass().getField("commits").get(c);
        }
        c.rollback();
        c.close();
        System.out.println("commits=" + counted + " rollback and close returned");
    }
}
