#!/usr/bin/env bash
# Single-node Apache Kafka broker (KRaft combined mode, no ZooKeeper) for tests and development.
#
#   scripts/kafka.sh start|stop|status
#
# The broker runs straight from Kafka's own jars, fetched from Maven Central with Maven (the
# Apache download site is not needed). No Docker.
#
# Environment:
#   KAFKA_PORT             client listener on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener (default KAFKA_PORT+1)
#   KAFKA_DATA_DIR         config, logs, pid file, topic data (default $VIGIL_CACHE/kafka-data/PORT)
#   VIGIL_CACHE            cache root (default <repo>/.cache); jars go to kafka/<version>/libs
#   KAFKA_VERSION          org.apache.kafka:kafka_2.13 version, 3.x only (default 3.9.2)
#   KAFKA_HEAP_OPTS        default "-Xms64m -Xmx512m"
#   KAFKA_JVM_OPTS         extra JVM flags (default tuned for a fast start on a small machine)
#   KAFKA_EXTRA_CONFIG     extra server.properties lines, appended last (so they win)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to be ready (default 90)
#   KAFKA_STOP_TIMEOUT     seconds to wait after SIGTERM before SIGKILL (default 30)
#   KAFKA_OWNER_PID        if set, the broker is stopped when that process exits (test runners)
#   KAFKA_PYTHON           python used for the readiness probe (default <repo>/.venv/bin/python)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.2}"
SCALA_VERSION=2.13
# Kafka 3.9.x logs through slf4j 1.7 -> reload4j (the binary distribution ships these two jars,
# but kafka_2.13's pom only depends on slf4j-api, so they are added explicitly).
SLF4J_VERSION=1.7.36
RELOAD4J_VERSION=1.2.25

CACHE_DIR="${VIGIL_CACHE:-$REPO_ROOT/.cache}"
LIBS_DIR="$CACHE_DIR/kafka/$KAFKA_VERSION/libs"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
DATA_DIR="${KAFKA_DATA_DIR:-$CACHE_DIR/kafka-data/$KAFKA_PORT}"
CONF_DIR="$DATA_DIR/config"
LOG_DIR="$DATA_DIR/logs"
TOPICS_DIR="$DATA_DIR/kraft"
PID_FILE="$DATA_DIR/kafka.pid"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
PYTHON="${KAFKA_PYTHON:-$REPO_ROOT/.venv/bin/python}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms64m -Xmx512m}"
# SerialGC and C1-only JIT start noticeably faster and use less CPU on a 2-core box; a test
# broker never runs long or hot enough for G1/C2 to pay off.
JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true}"

log() { echo "kafka.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pid from the pid file, if that process is still *our* broker (guards against pid reuse).
broker_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(<"$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $CONF_DIR/server.properties" || return 1
    echo "$pid"
}

# --- jars ----------------------------------------------------------------------------------

fetch_jars() {
    local marker="$LIBS_DIR/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar"
    [[ -f "$marker" ]] && return 0
    [[ "$KAFKA_VERSION" == 3.* ]] ||
        die "KAFKA_VERSION=$KAFKA_VERSION: only 3.x is supported (4.x logs via log4j2, not reload4j)"
    command -v mvn >/dev/null || die "mvn not found (needed once, to fetch the Kafka jars)"
    mkdir -p "$(dirname "$LIBS_DIR")"
    # Serialise concurrent first starts (e.g. parallel test workers) on one download.
    exec 9>"$LIBS_DIR.lock"
    flock 9
    if [[ ! -f "$marker" ]]; then
        log "fetching kafka_$SCALA_VERSION $KAFKA_VERSION and dependencies from Maven Central..."
        local work
        work="$(mktemp -d "$LIBS_DIR.tmp.XXXXXX")"
        cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.vigil</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$SCALA_VERSION</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>$SLF4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>ch.qos.reload4j</groupId>
      <artifactId>reload4j</artifactId>
      <version>$RELOAD4J_VERSION</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
        # Maven's own output goes to a file (it prints colour codes even with -q); shown on failure.
        if ! mvn -B -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1; then
            tail -n 40 "$work/mvn.log" >&2
            rm -rf "$work"
            die "maven could not fetch the Kafka jars"
        fi
        # Publish atomically: an interrupted download never looks like a complete cache.
        rm -rf "$LIBS_DIR"
        mv "$work/libs" "$LIBS_DIR"
        rm -rf "$work"
        log "cached $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS_DIR" | cut -f1)) in $LIBS_DIR"
    fi
    exec 9>&-
}

# --- config --------------------------------------------------------------------------------

write_config() {
    mkdir -p "$CONF_DIR" "$LOG_DIR" "$TOPICS_DIR"
    # Regenerated on every start so port/env changes apply; the data itself is kept.
    cat >"$CONF_DIR/server.properties" <<EOF
# Generated by scripts/kafka.sh; edits are overwritten on the next start.
process.roles=broker,controller
node.id=1
# Static single-voter quorum: works with a plain 'storage format' on every 3.x (no --standalone).
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$TOPICS_DIR

# Single node: every internal topic with replication factor 1.
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Internal topics default to 50 partitions each, slow to create on a small machine for no gain.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
# After a crash (SIGKILL) the restarted broker cannot re-register until the controller expires
# its old session (DUPLICATE_BROKER_REGISTRATION): 9 s by default, which crash tests would pay.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500

# Small thread pools: this broker serves tests, not traffic.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
EOF
    if [[ -n "${KAFKA_EXTRA_CONFIG:-}" ]]; then
        printf '\n# KAFKA_EXTRA_CONFIG\n%s\n' "$KAFKA_EXTRA_CONFIG" >>"$CONF_DIR/server.properties"
    fi

    cat >"$CONF_DIR/log4j.properties" <<EOF
# Generated by scripts/kafka.sh: everything to a file, nothing to the console.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$LOG_DIR/server.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

# The java command line shared by the storage tool and the broker. 'libs/*' is expanded by java
# itself (classpath wildcard), so it must stay quoted.
java_cmd() {
    # shellcheck disable=SC2206  # HEAP_OPTS / JVM_OPTS are deliberately word-split
    JAVA_CMD=("$JAVA" $HEAP_OPTS $JVM_OPTS
        -Dlog4j.configuration="file:$CONF_DIR/log4j.properties" -Dkafka.logs.dir="$LOG_DIR"
        -cp "$LIBS_DIR/*")
}

# A KRaft cluster id is a base64url (no padding) random 128-bit UUID; made here instead of with
# 'kafka-storage random-uuid' to save a JVM start. Kafka rejects ids starting with '-'.
new_cluster_id() {
    local id
    while :; do
        id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ "$id" == -* ]] || { echo "$id"; return; }
    done
}

format_storage() {
    [[ -f "$TOPICS_DIR/meta.properties" ]] && return 0
    local cluster_id
    cluster_id="$(new_cluster_id)"
    log "formatting $TOPICS_DIR (cluster id $cluster_id)"
    java_cmd
    "${JAVA_CMD[@]}" kafka.tools.StorageTool format --ignore-formatted \
        -t "$cluster_id" -c "$CONF_DIR/server.properties" >>"$LOG_DIR/kafka.out" 2>&1 ||
        { tail -n 20 "$LOG_DIR/kafka.out" >&2; die "storage format failed"; }
}

# --- readiness -----------------------------------------------------------------------------

# Ask the broker for its topic list with kafka-python, as a real client would.
python_probe() {
    timeout 20 "$PYTHON" - "127.0.0.1:$KAFKA_PORT" <<'EOF' >/dev/null 2>&1
import sys
from kafka import KafkaAdminClient

admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000,
                         client_id="kafka.sh-probe")
try:
    admin.list_topics()
finally:
    admin.close()
EOF
}

wait_ready() {
    local pid="$1" log_offset="$2" started="$3" deadline use_python=0
    deadline=$((started + START_TIMEOUT))
    [[ -x "$PYTHON" ]] && "$PYTHON" -c 'import kafka' 2>/dev/null && use_python=1
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "broker exited during startup; last log lines:"
            tail -n 30 "$LOG_DIR/server.log" "$LOG_DIR/kafka.out" >&2 2>/dev/null || true
            rm -f "$PID_FILE"
            exit 1
        fi
        # Only look at log lines written by this run (the log is appended to across restarts).
        # Not 'grep -q': its early exit can SIGPIPE tail, which pipefail reports as a failure.
        if port_open "$KAFKA_PORT" &&
            tail -c "+$((log_offset + 1))" "$LOG_DIR/server.log" 2>/dev/null |
            grep 'Kafka Server started' >/dev/null; then
            if [[ "$use_python" == 0 ]] || python_probe; then
                return 0
            fi
        fi
        if ((SECONDS >= deadline)); then
            log "broker not ready after ${START_TIMEOUT}s; stopping it. Last log lines:"
            tail -n 30 "$LOG_DIR/server.log" >&2 2>/dev/null || true
            cmd_stop >/dev/null || true
            exit 1
        fi
        sleep 0.2
    done
}

# --- commands ------------------------------------------------------------------------------

cmd_start() {
    local pid started=$SECONDS
    if pid="$(broker_pid)"; then
        echo "kafka already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
        return 0
    fi
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        port_open "$p" && die "port 127.0.0.1:$p is already in use"
    done

    fetch_jars
    write_config
    format_storage

    local log_offset=0
    [[ -f "$LOG_DIR/server.log" ]] && log_offset="$(stat -c %s "$LOG_DIR/server.log")"
    rm -f "$PID_FILE"
    java_cmd
    # setsid detaches the broker from our session (a Ctrl-C in the terminal does not reach it);
    # the inner shell writes its own pid, then exec's java, so the pid file names the JVM itself.
    # shellcheck disable=SC2016
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
        "${JAVA_CMD[@]}" kafka.Kafka "$CONF_DIR/server.properties" \
        </dev/null >>"$LOG_DIR/kafka.out" 2>&1 &
    pid=$!  # same process as long as setsid does not fork; the pid file is authoritative
    for _ in $(seq 100); do [[ -s "$PID_FILE" ]] && break; sleep 0.05; done
    [[ -s "$PID_FILE" ]] && pid="$(<"$PID_FILE")"

    if [[ -n "${KAFKA_OWNER_PID:-}" ]]; then
        # Watchdog: a test run that dies without calling 'stop' must not leak a broker JVM.
        # shellcheck disable=SC2016
        setsid bash -c '
            while kill -0 "$0" 2>/dev/null && kill -0 "$1" 2>/dev/null; do sleep 1; done
            kill -0 "$1" 2>/dev/null || exit 0
            kill -TERM "$1"
            for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || exit 0; sleep 1; done
            kill -KILL "$1"' "$KAFKA_OWNER_PID" "$pid" "$STOP_TIMEOUT" \
            </dev/null >/dev/null 2>&1 &
    fi

    wait_ready "$pid" "$log_offset" "$started"
    echo "kafka $KAFKA_VERSION ready on 127.0.0.1:$KAFKA_PORT" \
        "(controller :$KAFKA_CONTROLLER_PORT, pid $pid, data $DATA_DIR, $((SECONDS - started))s)"
}

cmd_stop() {
    local pid
    if ! pid="$(broker_pid)"; then
        rm -f "$PID_FILE"
        echo "kafka not running (data $DATA_DIR)"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT * 10)); then
            log "no exit ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL to $pid"
            kill -KILL "$pid" 2>/dev/null || true
            while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$PID_FILE"
    echo "kafka stopped (pid $pid)"
}

cmd_status() {
    local pid
    if pid="$(broker_pid)"; then
        echo "kafka running (pid $pid) on 127.0.0.1:$KAFKA_PORT, data $DATA_DIR"
        return 0
    fi
    echo "kafka not running (data $DATA_DIR)"
    return 1
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
