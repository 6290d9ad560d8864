#!/bin/sh
# Builds (against the tollgate-* artifacts in the local Maven repository) and runs the sync drain benchmark.
# Arguments go to SyncDrainBench: [--records N] [--runs N] [--db h2|postgres] [--set sync.key=value ...]
set -e
cd "$(dirname "$0")"
mvn -q package
exec java -Xmx2g \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-exports=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED \
  -Dchronicle.analytics.disable=true -Dchronicle.announcer.disable=true \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp 'target/classes:target/lib/*' io.tollgate.bench.sync.SyncDrainBench "$@"
