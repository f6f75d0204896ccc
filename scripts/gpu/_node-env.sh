# Sourced by the scripts/gpu/run-*.sh scripts, from the repository root, on the GPU machine (no Node there):
# - node on PATH, unpacked from the carried .gpu/node.xz (../shared/gpu/pack-node.sh) when none is installed;
# - node_modules/@fpsattn/* links to the workspace, so bare-specifier imports between the carried dist/ folders
#   (@fpsattn/fp8 from kernels' dist, @fpsattn/kernels from tests and benches) resolve without npm;
# - SAN: compute-sanitizer.
if ! command -v node >/dev/null 2>&1; then
  mkdir -p /tmp/nodebin && xz -dc .gpu/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
  export PATH=/tmp/nodebin:$PATH
fi
mkdir -p node_modules/@fpsattn
for p in packages/*/; do
  p=$(basename "$p")
  [ -e "node_modules/@fpsattn/$p" ] || ln -s "../../packages/$p" "node_modules/@fpsattn/$p"
done
[ -e node_modules/@fpsattn/native ] || ln -s ../../native node_modules/@fpsattn/native
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
