#!/usr/bin/env bash
# Records what CytoTune does with this machine's GPU, for a user (or a lab's GPU machine) to run
# once and send back: bash bench/gpu-check.sh [OUT_DIR]
#  1. `cytotune doctor --json`: which tfjs backend each GPU path would use, or exactly why not
#     (CUDA libraries for tfjs-node-gpu, a Vulkan/Metal/D3D12 adapter for WebGPU).
#  2. each GPU backend forced in turn (`--backend tensorflow`, `--backend webgpu`): doctor's
#     self-test on it, so a path that fails says so instead of falling back silently.
#  3. the inference benchmark (ONNX Runtime, whose CUDA provider is used where installed) and the
#     LoRA train-step benchmark without the PyTorch reference, their JSON copied to OUT_DIR.
# Nothing is downloaded; every step is independent, so a failing one does not stop the rest.
set -u
cd "$(dirname "$0")/.."
out="${1:-bench/results/gpu-check-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
cli=(node bin/cytotune.js)

step() {
  local name="$1"
  shift
  echo "== $name"
  if "$@" >"$out/$name.log" 2>&1; then echo "   ok ($out/$name.log)"; else echo "   failed: $(tail -n 1 "$out/$name.log")"; fi
}

{ command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; } >"$out/nvidia-smi.txt" 2>&1 || true
step doctor "${cli[@]}" doctor --json
cp "$out/doctor.log" "$out/doctor.json" 2>/dev/null || true
for backend in tensorflow webgpu; do step "doctor-$backend" "${cli[@]}" doctor --backend "$backend"; done
step bench-onnx node --import tsx bench/onnx.ts --no-torch
step bench-train-step node --import tsx bench/train-step.ts --no-torch --runs 1
cp bench/results/onnx.json bench/results/train-step.json "$out/" 2>/dev/null || true
echo "GPU figures in $out (send the folder as it is)."
