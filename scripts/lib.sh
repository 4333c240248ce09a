# Shared by the scripts in this folder (sourced, not run). Each script builds what it uses, the agent
# jar included, so that it works from a fresh clone with no other step, and says in one line what failed
# and how to fix it when something it needs cannot start.

AGENT=agent/target/sessionguard-agent.jar
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

# fail <message>: one line on stderr, then exit (status $2, default 1)
fail() {
  echo "$(basename "$0"): $1" >&2
  exit "${2:-1}"
}

# sg_build <module>...: builds the agent jar and the given modules (with the modules they depend on) when
# one of them has no build output yet, or a source or pom of the agent, the helper API or the modules is
# newer than the agent jar. One Maven run, tests skipped.
sg_build() {
  local need=no m
  [ -f "$AGENT" ] || need=yes
  for m in "$@"; do
    [ -f "$m/target/classpath.txt" ] && [ -d "$m/target/classes" ] || need=yes
  done
  if [ "$need" = no ] && [ -n "$(find pom.xml agent instrumentation "$@" -path '*/target' -prune -o \
         \( -name '*.java' -o -name 'pom.xml' \) -newer "$AGENT" -print 2>/dev/null | head -n 1)" ]; then
    need=yes
  fi
  [ "$need" = yes ] || return 0
  local pl=agent
  for m in "$@"; do pl="$pl,$m"; done
  command -v mvn >/dev/null 2>&1 || fail "Maven (mvn) is not on the PATH; install it (apt-get install maven) and run again" 3
  echo "== building: mvn -q -B package -DskipTests -pl $pl -am"
  if ! mvn -q -B package -DskipTests -pl "$pl" -am; then
    fail "the build failed (mvn -B package -DskipTests -pl $pl -am prints why)" 3
  fi
  [ -f "$AGENT" ] || fail "the build ran but $AGENT is missing; run mvn -B package -DskipTests -pl agent -am and look at its output" 3
  touch "$AGENT" # built from the sources as they are now
}

# sg_check_agent: the JVM accepts the agent jar (it starts with it and the agent says nothing is wrong)
sg_check_agent() {
  local out
  command -v "$JAVA" >/dev/null 2>&1 || fail "no java at $JAVA; install a JDK (17 or later) or set JAVA_HOME to one" 3
  out=$("$JAVA" "-javaagent:$AGENT" -version 2>&1) || fail "java refuses the agent jar $AGENT: $(echo "$out" | grep -v '^\(openjdk\|OpenJDK\|java\|Java\)' | head -n 1); rebuild it with mvn -B package -DskipTests -pl agent -am" 4
  if echo "$out" | grep -q '^\[sessionguard\]'; then
    fail "the agent does not start: $(echo "$out" | grep -m1 '^\[sessionguard\]')" 4
  fi
}

# sg_need_port <port> <what> <start command>: a server answers on 127.0.0.1:<port>, else one line and exit 3
sg_need_port() {
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    fail "needs $2 and nothing answers on 127.0.0.1:$1; start it with: $3" 3
  fi
}
