package dev.sessionguard.agent;

/** A JVM to attach to: prints its pid, then waits for a line on stdin. */
public final class WaitingApp {

    private WaitingApp() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println(ProcessHandle.current().pid());
        System.out.flush();
        System.in.read();
    }
}
