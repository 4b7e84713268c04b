// Versions pinned together: the Android Gradle plugin 9.4 needs Gradle 9 (the wrapper pins
// 9.7.1) and JDK 17; the core module is plain Kotlin/JVM.
plugins {
    id("com.android.application") version "9.4.1" apply false
    id("org.jetbrains.kotlin.jvm") version "2.4.20" apply false
}
