package dev.sessionguard.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * What the tests of real servers (Tomcat, WildFly) share: a distribution unpacked from its zip, a free port,
 * HTTP GETs answered with {@code key=value} lines, and the table of one run (a PostgreSQL URL and user, no password).
 */
public final class ServerDist {

    private ServerDist() {
    }

    /** Unpacks the entries of {@code zip} under {@code prefix} into {@code as} (shell scripts made executable). */
    public static void unzip(Path zip, String prefix, Path as) throws IOException {
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                String name = e.getName();
                if (!name.startsWith(prefix)) {
                    continue;
                }
                Path out = as.resolve(name.substring(prefix.length()));
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                    if (name.endsWith(".sh")) {
                        out.toFile().setExecutable(true);
                    }
                }
            }
        }
    }

    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> all = Files.walk(p)) {
            List<Path> paths = new ArrayList<>();
            all.sorted(Comparator.reverseOrder()).forEach(paths::add);
            for (Path x : paths) {
                Files.delete(x);
            }
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The body of a GET (of an error page too), with HTTP basic authentication when {@code user} ("name:password") is given. */
    public static String get(String url, String user) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(60_000);
        if (user != null) {
            c.setRequestProperty("Authorization", "Basic " + Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8)));
        }
        try (InputStream in = c.getResponseCode() >= 400 ? c.getErrorStream() : c.getInputStream()) {
            return in == null ? "HTTP " + c.getResponseCode() : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** {@code key=value} lines; a body without any is kept whole under "response". */
    public static Map<String, String> parse(String body) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String l : body.split("\n")) {
            int eq = l.indexOf('=');
            if (eq > 0) {
                m.put(l.substring(0, eq), l.substring(eq + 1).trim());
            }
        }
        if (m.isEmpty()) {
            m.put("response", body);
        }
        return m;
    }

    public static void createTable(String url, String user, String table) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, ""); Statement s = c.createStatement()) {
            s.execute("drop table if exists " + table);
            s.execute("create table " + table + " (id bigint primary key, item varchar(100) not null)");
        }
    }

    public static long rows(String url, String user, String table) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, ""); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public static void dropTable(String url, String user, String table) {
        try (Connection c = DriverManager.getConnection(url, user, ""); Statement s = c.createStatement()) {
            s.execute("drop table if exists " + table);
        } catch (Exception e) {
            // the database may be what broke
        }
    }
}
