package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new agent build removes an old build's woven-class cache nobody used for two days, and nothing else: with
 * {@code cache=DIR} the directory is the user's (a home directory, a volume) and holds the user's own files too.
 */
class WovenCacheStaleTest {

    private static final long FIVE_DAYS_AGO = System.currentTimeMillis() - TimeUnit.DAYS.toMillis(5);

    private static Path file(Path dir, String name) throws Exception {
        Files.createDirectories(dir);
        Path f = dir.resolve(name);
        Files.write(f, new byte[] {1, 2, 3});
        return f;
    }

    private static void age(Path... paths) throws Exception {
        for (Path p : paths) {
            Files.setLastModifiedTime(p, FileTime.fromMillis(FIVE_DAYS_AGO));
        }
    }

    @Test
    void aCacheDirectoryTheUserNamedLosesOnlyOldCachesOfTheAgent(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("volume");
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        // the user's own, old, with names like an agent build's (name-hex-hex) or a cache's
        Path[] users = {file(dir.resolve("backup-2024-05"), "db.dump"), file(dir.resolve("cache-images"), "a.png"),
            file(dir.resolve("reports-2023-12"), "q4.pdf"), file(dir.resolve("0.0.8-12-34"), "notes.txt")};
        Path outside = file(tmp.resolve("elsewhere"), "keep.txt");
        Files.createSymbolicLink(dir.resolve("link-1-2"), outside.getParent());
        // an older agent build's cache, marked as such
        Path stale = file(dir.resolve("0.0.9-abc-def"), "org.x.Y-1f-0123456789abcdef0123456789abcdef");
        file(stale.getParent(), WovenCache.MARK);
        for (Path p : users) {
            age(p.getParent());
        }
        age(stale.getParent(), outside.getParent());

        assertNotNull(WovenCache.open(dir.toString(), new LogSink(LogSink.WARN)));

        for (Path p : users) {
            assertTrue(Files.exists(p), p + " is the user's");
        }
        assertTrue(Files.exists(outside), "a link is not followed");
        assertFalse(Files.exists(stale.getParent()), "the old build's cache is removed");
        File current = new File(dir.toFile(), PrivateDir.build());
        assertTrue(new File(current, WovenCache.MARK).isFile(), "this build's cache is marked");
    }

    @Test
    void theAgentsOwnDirectoryLosesEveryOldBuild(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("sessionguard-me");
        Path current = root.resolve("cache-1.0-10-20");
        Files.createDirectories(current);
        Path oldCache = file(root.resolve("cache-0.9-10-20"), "entry");
        Path oldJar = file(root.resolve("0.9-10-20"), "sessionguard-bootstrap.jar");
        Path recent = file(root.resolve("cache-0.95-10-20"), "entry");
        age(oldCache.getParent(), oldJar.getParent(), current);

        WovenCache.removeStale(root.toFile(), current.toFile(), true);

        assertFalse(Files.exists(oldCache.getParent()));
        assertFalse(Files.exists(oldJar.getParent()));
        assertTrue(Files.exists(recent), "used within two days");
        assertTrue(Files.exists(current), "the build in use");
        assertEquals(2, root.toFile().list().length);
    }
}
