package dev.sessionguard.demo;

import java.io.File;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Opens the service's database after the service exited, in a JVM of its own, and compares it with the
 * acknowledgement log: {@code rows found} and {@code acknowledged but missing}, appended to summary.txt.
 */
public final class Verify {

    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        String url = "jdbc:h2:file:" + new File(dir, "orders").getAbsolutePath();
        Set<Long> found = new HashSet<>();
        String error = null;
        try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select id from orders")) {
            while (rs.next()) {
                found.add(rs.getLong(1));
            }
        } catch (Exception e) {
            error = e.getMessage();
        }
        List<String> acked = Files.readAllLines(new File(dir, "acknowledged.log").toPath());
        long missing = acked.stream().filter(l -> !l.isEmpty()).map(Long::parseLong).filter(id -> !found.contains(id)).count();
        StringBuilder b = new StringBuilder();
        b.append("rows found in the database=").append(error == null ? String.valueOf(found.size()) : "unreadable: " + error).append('\n');
        b.append("acknowledged but missing=").append(missing).append('\n');
        Files.write(new File(dir, "summary.txt").toPath(), b.toString().getBytes(), java.nio.file.StandardOpenOption.APPEND);
    }
}
