#!/usr/bin/env bash
# Compiles the pure-Kotlin core and its JUnit 4 tests with Debian's kotlinc and runs them
# on the JVM. Needs the Debian packages kotlin and junit4 (apt-get install kotlin junit4).
# Contract tests read fixtures from $SPELA_CONTRACT_DIR (written by the Python tests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${CORE_BUILD_DIR:-$here/build/jvm}
jars=${JAVA_LIBS:-/usr/share/java}

if ! command -v kotlinc > /dev/null; then
    echo "kotlinc not found: install Debian's kotlin and junit4 (apt-get install kotlin junit4)" >&2
    exit 3
fi
for jar in junit4.jar hamcrest-core.jar kotlin-stdlib.jar; do
    [ -f "$jars/$jar" ] || { echo "$jars/$jar not found (apt-get install kotlin junit4)" >&2; exit 3; }
done
test_cp="$jars/junit4.jar:$jars/hamcrest-core.jar"

rm -rf "$out"
mkdir -p "$out/main" "$out/test"
mapfile -t main_sources < <(find "$here/src/main/kotlin" -name '*.kt' | sort)
mapfile -t test_sources < <(find "$here/src/test/kotlin" -name '*Test.kt' | sort)
echo "compiling ${#main_sources[@]} core sources and ${#test_sources[@]} test sources with $(kotlinc -version 2>&1 | tail -n 1)"
kotlinc -nowarn "${main_sources[@]}" -d "$out/main" 2>&1 | grep -v '^warning' || true
[ -n "$(find "$out/main" -name '*.class' -print -quit)" ] || { echo "core compilation failed" >&2; exit 1; }
kotlinc -nowarn -cp "$out/main:$test_cp" "${test_sources[@]}" -d "$out/test" 2>&1 | grep -v '^warning' || true
[ -n "$(find "$out/test" -name '*Test.class' -print -quit)" ] || { echo "test compilation failed" >&2; exit 1; }

classes=()
for source in "${test_sources[@]}"; do
    relative=${source#"$here/src/test/kotlin/"}
    classes+=("$(echo "${relative%.kt}" | tr / .)")
done
java -cp "$out/main:$out/test:$test_cp:$jars/kotlin-stdlib.jar" org.junit.runner.JUnitCore "${classes[@]}"
