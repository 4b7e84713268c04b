#!/usr/bin/env bash
# Copies the speaker example's export into the app's assets (the Gradle task
# :app:copyModelAssets does the same). Usage: android_demo/copy-export.sh [EXPORT_DIR]
# EXPORT_DIR defaults to runs/demo/export, which `make demo` writes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export_dir=${1:-$here/../runs/demo/export}
assets=$here/app/src/main/assets
for name in model.json labels.txt model.tflite; do
    [ -f "$export_dir/$name" ] || { echo "missing $export_dir/$name: run 'make demo' or speaker_recognition.convert first" >&2; exit 2; }
done
mkdir -p "$assets"
for name in model.tflite model_int8.tflite labels.txt model.json; do
    [ -f "$export_dir/$name" ] && cp "$export_dir/$name" "$assets/$name.tmp" && mv "$assets/$name.tmp" "$assets/$name"
done
echo "copied $(ls "$assets" | tr '\n' ' ')to $assets"
