// The Android Gradle plugin 9 compiles Kotlin itself (built-in Kotlin): no kotlin-android
// plugin, and Kotlin's JVM target follows compileOptions.targetCompatibility.
plugins {
    id("com.android.application")
}

android {
    namespace = "org.spela.speaker.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.spela.speaker.demo"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "1.0"
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    androidResources {
        noCompress += "tflite"
    }
}

dependencies {
    implementation(project(":core"))
    implementation("com.google.ai.edge.litert:litert:2.2.0")
    implementation("androidx.appcompat:appcompat:1.7.0")
    implementation("androidx.activity:activity-ktx:1.9.3")
}

// ./gradlew :app:copyModelAssets -PspeakerExport=/path/to/export
// copies the speaker example's export (default: runs/demo/export, what `make demo` writes)
// into the app's assets. The build does not run it by itself: an APK without a model
// shows an error screen that says how to add one.
val speakerExport = providers.gradleProperty("speakerExport")
    .orElse(rootProject.layout.projectDirectory.dir("../runs/demo/export").asFile.path)

tasks.register<Copy>("copyModelAssets") {
    description = "Copies model.tflite, model_int8.tflite, labels.txt and model.json into assets."
    group = "speaker demo"
    from(speakerExport) {
        include("model.tflite", "model_int8.tflite", "labels.txt", "model.json")
    }
    into(layout.projectDirectory.dir("src/main/assets"))
    doFirst {
        val source = file(speakerExport.get())
        require(source.resolve("model.json").isFile && source.resolve("labels.txt").isFile) {
            "no export in $source: run `make demo` or speaker_recognition.convert first"
        }
    }
}
