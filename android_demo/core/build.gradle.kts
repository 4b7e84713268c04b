// Pure Kotlin, no Android: every piece of logic that is not platform glue.
// Also compiled and tested without Gradle by run-tests.sh (Debian's kotlinc 1.3 and junit4),
// so the sources keep to what Kotlin 1.3 accepts.
plugins {
    id("org.jetbrains.kotlin.jvm")
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    testImplementation("junit:junit:4.13.2")
}
